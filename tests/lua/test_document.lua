-- Tables out of text documents (tally.read_document, t:title(), t:meta())
-- and reshaping (t:pivot_longer, t:pivot_wider).
-- Run from the repository root: tally tests/lua/test_document.lua

local tally = require "tally"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

local function same(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

-- the seed report (a copy in tests/data) -------------------------------------------
do
  local seed = "tests/data/police-international-cooperation.txt"
  local docs = tally.read_document(seed)
  assert(#docs == 2)
  local jica, jdr = docs[1], docs[2]
  assert(#jica == 8 and jica:ncol() == 11)
  assert(jica:title() == "JICA Knowledge Co-Creation Programs (Group & Region Focus)")
  assert(jica:names()[1] == "Program" and jica:names()[2] == "2016 No. of participants")
  assert(jica["2020 No. of countries"]:sum() == 21)
  assert(#jdr == 16 and jdr:ncol() == 4)
  assert(jdr:title() == "International Disaster Relief Activities by the Japanese Police")
  assert(same(jdr:names(), { "Month & Year", "Country/Region", "Disaster", "Dispatched" }))
  assert(jdr["Month & Year"][1] == "1990-06-01" and jdr.Dispatched:sum() == 290)
  local m = jdr:meta()
  assert(m.title == jdr:title() and m.header_rows == 1 and m.first_line < m.last_line)
  assert(m.units.Dispatched == "persons" and m.units.Disaster == nil)
  m.units.Dispatched = "x"                                  -- a copy: nothing changes
  assert(jdr:meta().units.Dispatched == "persons")
  -- the tidy form in data/ is what the extract script makes
  local long = jica:pivot_longer{ id_cols = { "Program" }, names_to = { "year", "measure" },
                                  names_pattern = "^(%d+) (.*)$" }
  local tidy = long:pivot_wider{ names_from = "measure", values_from = "value" }
  local csv = tally.read_csv("data/jica_training.csv")
  assert(#tidy == #csv and tidy["No. of participants"]:sum() == csv.participants:sum())
end

-- documents written for the test ---------------------------------------------------
local text = table.concat({
  "Weekly figures",
  "",
  "Site\tWeek 1\t\tWeek 2\t",
  "\tvisits\tstaff\tvisits\tstaff",
  "Dock\t1,200\t4 persons\t980*\t3 persons\t\t",
  "Yard\t\t\t12 (a)\t1 person",
  "",
  "Log\t\t",
  "When\tWhat\tCost",
  "Jan. 2020\tpaint\t12.5",
  "March 2021\tnails\t3",
}, "\n")                                                    -- no final newline
local docs = tally.read_document{ text = text }
assert(#docs == 2)
local w, log = docs[1], docs[2]
assert(w:title() == "Weekly figures" and #w == 2 and w:ncol() == 5)
assert(same(w:names(), { "Site", "Week 1 visits", "Week 1 staff", "Week 2 visits",
                         "Week 2 staff" }))
assert(w["Week 1 visits"][1] == 1200 and w["Week 1 visits"][2] == nil)
assert(w["Week 2 visits"]:sum() == 992)
local m = w:meta()
assert(m.title_line == 1 and m.first_line == 3 and m.last_line == 6 and m.header_rows == 2)
assert(m.units["Week 1 staff"] == "persons" and m.units["Week 2 staff"] == "persons")
assert(log:title() == "Log" and log:meta().title_line == 8)
assert(log.When:type() == "date" and log.When[1] == "2020-01-01" and log.When[2] == "2021-03-01")
assert(log.Cost:type() == "float")
-- derived tables and other tables have no metadata
assert(w:head(1):title() == nil and w:head(1):meta() == nil)
assert(tally.from_columns{ { "x", { 1 } } }:title() == nil)
-- another separator, and a name for messages
local p = tally.read_document({ text = "a;b\n1;2\n", name = "inline" }, { sep = ";" })
assert(#p == 1 and p[1].b[1] == 2 and p[1]:title() == nil)
assert(#tally.read_document{ text = "" } == 0)

-- pivot_longer / pivot_wider round trip --------------------------------------------
local long = w:pivot_longer{ cols = { "Week 1 visits", "Week 1 staff", "Week 2 visits",
                                      "Week 2 staff" },
                             names_to = { "week", "measure" }, values_to = "n",
                             names_pattern = "^Week (%d+) (%a+)$" }
assert(#long == 8 and same(long:names(), { "Site", "week", "measure", "n" }))
assert(long.week:type() == "int" and long.week[3] == 2 and long.measure[2] == "staff")
local back = long:pivot_wider{ names_from = { "week", "measure" }, values_from = "n",
                               names_sep = " " }
assert(same(back:names(), { "Site", "1 visits", "1 staff", "2 visits", "2 staff" }))
assert(back["2 visits"][1] == 980 and back["1 visits"][2] == nil)
local few = long:filter("n >= 980")                         -- Dock's visits only
local filled = few:pivot_wider{ names_from = "week", values_from = "n", fill = 0 }
assert(same(filled:names(), { "Site", "measure", "1", "2" }) and #filled == 1)
local wide2 = long:pivot_wider{ names_from = "measure", values_from = "n", id_cols = { "Site", "week" },
                                fill = 0 }
assert(#wide2 == 4 and wide2.visits[2] == 980 and wide2.staff[4] == 1)
assert(wide2.visits[3] == nil)                             -- an explicit null stays null
local drop = w:pivot_longer{ id_cols = { "Site" }, values_drop_na = true }
assert(#drop == 6 and drop.name[1] == "Week 1 visits" and drop.value:sum() == 2200)

-- errors ----------------------------------------------------------------------------
check_error("read_document: cannot open 'no/such/report.txt': No such file or directory",
            tally.read_document, "no/such/report.txt")
check_error("read_document: inline:2:1: invalid UTF-8",
            tally.read_document, { text = "a\tb\n\xff\t1\n", name = "inline" })
check_error("read_document: unknown option 'seperator'",
            tally.read_document, { text = "" }, { seperator = ";" })
check_error("read_document: option 'sep' must be a one-character string",
            tally.read_document, { text = "" }, { sep = "ab" })
check_error("read_document: field 'text' must be a string", tally.read_document, {})
check_error("pivot_longer: column 'Week 1 staff' does not split into 2 parts at ' visits'",
            function()
              return w:pivot_longer{ id_cols = { "Site" }, names_to = { "week", "measure" },
                                     names_sep = " visits" }
            end)
check_error("pivot_longer: column 'Week 1 visits' does not match names_pattern '^(%d+)$'",
            function()
              return w:pivot_longer{ id_cols = { "Site" }, names_pattern = "^(%d+)$" }
            end)
check_error("pivot_longer: unknown column 'Sites' (did you mean 'Site'?)",
            function() return w:pivot_longer{ id_cols = { "Sites" } } end)
check_error("pivot_longer: unknown option 'name_to'",
            function() return w:pivot_longer{ cols = { "Site" }, name_to = "x" } end)
check_error("pivot_longer: cannot gather column 'Week 1 visits' (int) with column 'Site' (string)",
            function() return w:pivot_longer{ cols = { "Site", "Week 1 visits" } } end)
check_error("pivot_wider: rows 1 and 3 have the same id (Site = 'Dock') and name 'visits'",
            function() return long:pivot_wider{ names_from = "measure", values_from = "n",
                                                id_cols = { "Site" } } end)
check_error("pivot_wider: fill is a string value, but column 'n' is of type int",
            function() return long:pivot_wider{ names_from = "measure", values_from = "n",
                                                fill = "none" } end)
check_error("pivot_wider: option 'values_from' is missing",
            function() return long:pivot_wider{ names_from = "measure" } end)
local clash = tally.from_columns{ { "k", { 1, 2 } }, { "name", { "a", "k" } }, { "v", { 1, 2 } } }
check_error("pivot_wider: duplicate column name 'k'",   -- tl_table_new's error, renamed
            function() return clash:pivot_wider{ names_from = "name", values_from = "v" } end)
check_error("pivot_longer: duplicate column name 'k'",
            function() return clash:pivot_longer{ cols = { "v" }, names_to = "k" } end)

print("test_document: ok")
