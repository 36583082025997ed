-- claims.lua -- checks the numeric claims the report's text makes against
-- its own tables, and prints each with ✓ (the tables agree) or ✗.
--
--   tally scripts/claims.lua [DATA_DIR]

local dir = arg and arg[1] or "data"
local training = tally.read_csv(dir .. "/jica_training.csv")
local d = tally.read_csv(dir .. "/jdr_dispatches.csv")

local held, total = 0, 0
local function claim(text, ok, detail)
  total = total + 1
  if ok then held = held + 1 end
  print(string.format("%s %s", ok and "✓" or "✗", text))
  print("    " .. detail)
end

-- The JDR rescue dispatches: their number since 1987, and the latest one.
local since = d:filter("date >= '1987-01-01'")
claim("16 rescue dispatches of police officials with the JDR team since 1987",
  #since == 16,
  string.format("the table lists %d dispatches, from %s to %s", #since,
    since.date:min(), since.date:max()))

local latest = d:top(1, "-date")[1]
claim("the most recent dispatch was in February 2018",
  latest.date == "2018-02-01",
  string.format("the latest row is dated %s", latest.date))
claim("... to Taiwan",
  latest.country == "Taiwan",
  string.format("the latest row's country/region is %s", latest.country))
claim("... with 2 officials",
  latest.persons == 2,
  string.format("the latest row dispatched %d persons", latest.persons))

-- The training programs: the two the text names, and the years covered.
local names = {}
for _, p in ipairs(training:distinct("program").program:totable()) do names[p] = true end
for _, p in ipairs({ "Organization Management for Senior Police Officers",
                     "Community Policing" }) do
  claim("the JICA programs include " .. p, names[p] == true,
    names[p] and "a row of the programs table" or "not in the programs table")
end
local span = training:filter("not is_null(participants)")
  :agg("first = min(year)", "last = max(year)")
claim("the programs table covers 2016 to 2020",
  span.first[1] == 2016 and span.last[1] == 2020,
  string.format("courses were held from %d to %d", span.first[1], span.last[1]))

print()
print(string.format("%d of %d claims agree with the tables", held, total))
