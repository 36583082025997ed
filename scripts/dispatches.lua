-- dispatches.lua -- the Japan Disaster Relief team's dispatches of police
-- officials: by decade, by kind of disaster and by region of the world,
-- the largest dispatches and the time between dispatches.
--
--   tally scripts/dispatches.lua [DATA_DIR]

local dir = arg and arg[1] or "data"
local d = tally.read_csv(dir .. "/jdr_dispatches.csv")

local function section(title)
  print(title)
  print(string.rep("=", #title))
  print()
end

-- The region of the world of each country or region in the table.
local region_of = {
  Iran = "Middle East", Egypt = "Middle East", Algeria = "Africa", Morocco = "Africa",
  Philippines = "Southeast Asia", Malaysia = "Southeast Asia", Thailand = "Southeast Asia",
  Indonesia = "Southeast Asia", Taiwan = "East Asia", China = "East Asia",
  Pakistan = "South Asia", Nepal = "South Asia", Colombia = "Americas", Mexico = "Americas",
  ["New Zealand"] = "Oceania",
}
local regions = {}
for i, country in ipairs(d.country:totable()) do
  regions[i] = region_of[country] or "other"
end
d = tally.from_columns{ { "date", d.date }, { "country", d.country },
                        { "region", regions }, { "disaster", d.disaster },
                        { "persons", d.persons } }
  :mutate("decade = year(date) // 10 * 10")

local function summary(key)
  return d:group_by(key)
    :agg("dispatches = count()", "persons = sum(persons)",
         "mean = round(mean(persons) * 10) / 10", "largest = max(persons)")
end

section("By decade")
summary("decade"):show()
print()

section("By kind of disaster")
summary("disaster"):sort("-dispatches", "disaster"):show()
print()

section("By region of the world")
local by_region = summary("region"):sort("-persons", "region")
by_region:show()
print()
by_region:bar("region", "persons")
print()

section("The five largest dispatches")
d:top(5, "-persons", "date"):select("date", "country", "disaster", "persons"):show()
print()

section("Time between dispatches")
-- months from each dispatch to the next (the table is in date order)
local dates = d.date:totable()
local from, to, months = {}, {}, {}
local function month_index(iso)
  return tonumber(iso:sub(1, 4)) * 12 + tonumber(iso:sub(6, 7))
end
for i = 2, #dates do
  from[#from + 1] = dates[i - 1]
  to[#to + 1] = dates[i]
  months[#months + 1] = month_index(dates[i]) - month_index(dates[i - 1])
end
local gaps = tally.from_columns{ { "from", from }, { "to", to }, { "months", months } }
print("the longest gaps:")
gaps:top(3, "-months"):show()
print()
print("the shortest gaps:")
gaps:top(3, "months"):show()
print()
local stats = gaps:agg("n = count()", "mean = mean(months)", "median = median(months)")
print(string.format("%d gaps: %.1f months on average, median %s months",
  stats.n[1], stats.mean[1], stats.median[1]))
