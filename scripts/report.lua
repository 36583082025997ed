-- report.lua -- an overview of the seed report on police international
-- cooperation: JICA training programs 2016-2020 and the Japan Disaster
-- Relief team's dispatches since 1990.
--
--   tally scripts/report.lua [DATA_DIR]

local dir = arg and arg[1] or "data"
local training = tally.read_csv(dir .. "/jica_training.csv")
local dispatches = tally.read_csv(dir .. "/jdr_dispatches.csv")

-- Sums `value` per distinct `key`, keeping keys in order of first appearance.
local function totals(t, key, value, keyfn)
  local order, sum, n = {}, {}, {}
  for _, r in t:rows() do
    local k = keyfn and keyfn(r[key]) or r[key]
    if sum[k] == nil then order[#order + 1] = k; sum[k] = 0; n[k] = 0 end
    local v = r[value]
    if v ~= nil then sum[k] = sum[k] + v; n[k] = n[k] + 1 end
  end
  local counts, sums = {}, {}
  for i, k in ipairs(order) do counts[i] = n[k]; sums[i] = sum[k] end
  return order, counts, sums
end

local function section(title)
  print(title)
  print(string.rep("=", #title))
end

section("JICA training programs, 2016-2020")
print()
local years, courses, people = totals(training, "year", "participants")
local _, _, nations = totals(training, "year", "countries")
print(tally.from_columns{
  { "year", years }, { "courses", courses }, { "participants", people },
  { "countries", nations },
})
print()
local programs, ran, per_program = totals(training, "program", "participants")
print(tally.from_columns{
  { "program", programs }, { "years_run", ran }, { "participants", per_program },
})
print()
local participants = training.participants
print(string.format("participants in all:        %d", participants:sum()))
print(string.format("program-years with courses: %d of %d", participants:count(), #training))
print(string.format("program-years without:      %d", #training - participants:count()))
print(string.format("mean course size:           %.1f", participants:mean()))
print()

section("Japan Disaster Relief team dispatches")
print()
local persons = dispatches.persons
print(string.format("dispatches: %d, persons dispatched: %d (from %s to %s)",
  #dispatches, persons:sum(), dispatches.date:min(), dispatches.date:max()))
print()
local kinds, n_kind, p_kind = totals(dispatches, "disaster", "persons")
print(tally.from_columns{ { "disaster", kinds }, { "dispatches", n_kind }, { "persons", p_kind } })
print()
local decades, n_dec, p_dec = totals(dispatches, "date", "persons", function(d)
  return tostring(tonumber(d:sub(1, 3)) * 10) .. "s"
end)
print(tally.from_columns{ { "decade", decades }, { "dispatches", n_dec }, { "persons", p_dec } })
print()
local largest = dispatches[1]
for _, r in dispatches:rows() do
  if r.persons > largest.persons then largest = r end
end
print(string.format("largest dispatch: %d persons to %s (%s, %s)",
  largest.persons, largest.country, largest.disaster, largest.date))

-- The same results as a page to open in a browser: report.html in the
-- current folder, or the path given after the data folder.
local html = arg and arg[2] or "report.html"
local r = tally.report("Police international cooperation")
r:text("JICA training programs 2016-2020 and the Japan Disaster Relief team's "
  .. "dispatches since 1990, from the government report.")
r:heading("JICA training programs, 2016-2020")
local by_year = training:group_by("year"):agg("courses = count(participants)",
  "participants = sum(participants)")
r:table(by_year)
r:chart(by_year, { x = "year", y = "participants", kind = "bar",
  title = "Participants per year" })
local by_program = training:group_by("program"):agg("participants = sum(participants)")
r:table(by_program)
r:chart(by_program, { x = "program", y = "participants", kind = "bar",
  title = "Participants per program, 2016-2020" })
r:chart(training, { x = "year", y = "participants", by = "program", kind = "bar", stack = true,
  title = "Participants per year and program", height = 460 })
r:heading("Japan Disaster Relief team dispatches")
local by_kind = dispatches:group_by("disaster"):agg("dispatches = count()",
  "persons = sum(persons)")
r:table(by_kind)
r:chart(by_kind, { x = "disaster", y = "persons", kind = "bar", title = "Persons per disaster" })
r:chart(dispatches, { x = "date", y = "persons", by = "disaster", kind = "scatter",
  title = "Each dispatch", subtitle = "persons dispatched, by date" })
r:table(dispatches, { caption = "Every dispatch", max_rows = 20 })
r:write(html)
