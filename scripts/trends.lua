-- trends.lua -- the JICA training programs year by year: participants and
-- countries, the change from one year to the next, participants per
-- country, and the years a program did not run.
--
--   tally scripts/trends.lua [DATA_DIR]

local dir = arg and arg[1] or "data"
local training = tally.read_csv(dir .. "/jica_training.csv")

local function section(title)
  print(title)
  print(string.rep("=", #title))
  print()
end

-- One column per year, one row per program.
local function by_year(measure)
  return training:select("program", "year", measure)
    :pivot_wider{ names_from = "year", values_from = measure }
end

section("Participants per program and year")
local participants = by_year("participants")
participants:show()
print()

section("Countries per program and year")
by_year("countries"):show()
print()

section("Change in participants from the year before")
-- Mutate sees its earlier definitions, so the year columns are renamed
-- first and each change is a new column: null where either year had no
-- course.
local changes = participants
  :rename{ ["2016"] = "p16", ["2017"] = "p17", ["2018"] = "p18", ["2019"] = "p19",
           ["2020"] = "p20" }
  :mutate("d2017 = p17 - p16", "d2018 = p18 - p17", "d2019 = p19 - p18", "d2020 = p20 - p19")
  :select("program", "d2017", "d2018", "d2019", "d2020")
print("(each column: participants that year minus the year before)")
changes:show()
print()

section("Participants per country, 2016-2020")
training:group_by("program")
  :agg("participants = sum(participants)", "countries = sum(countries)",
       "per_country = round(sum(participants) / sum(countries) * 100) / 100")
  :sort("-per_country", "program")
  :show()
print()

section("Years without a course")
local missing = training:filter("is_null(participants)")
missing:group_by("program")
  :apply(function(sub)
    return { years = #sub, which = table.concat(sub.year:totable(), ", ") }
  end)
  :show()
print()

section("Participants per year, all programs")
training:group_by("year"):agg("participants = sum(participants)"):bar("year", "participants")
