-- Window functions in t:mutate (with the options table) and t:describe(),
-- on the seed tables, checked against values worked out from the CSV files.
-- Run from the repository root: tally tests/lua/test_window.lua

local tally = require "tally"
local null = tally.null

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

local function same(a, b, what)
  assert(#a == #b, string.format("%s: %d values, expected %d", what, #a, #b))
  for i = 1, #b do
    assert(a[i] == b[i], string.format("%s: row %d is %s, expected %s", what, i,
                                       tostring(a[i]), tostring(b[i])))
  end
end

local function near(a, b, what)
  assert(a ~= nil and math.abs(a - b) <= 1e-12 * math.max(1, math.abs(b)),
         string.format("%s: %s, expected %s", what, tostring(a), tostring(b)))
end

local t = tally.read_csv("data/jica_training.csv")      -- 8 programs x 2016..2020

-- participants change year to year per program (the file is in that order)
local m = t:mutate("change = participants - lag(participants)",
                   { order_by = "year", partition_by = "program" })
local N = null
same(m:col("change"):totable(), {
  N, 2, -2, 3, N,          -- Organization Management for Senior Police Officers
  N, 5, 0, 1, N,           -- Community Policing
  N, 3, 3, -3, N,          -- Control of Drug Offenses
  N, -2, -2, 1, N,         -- Counter International Terrorism
  N, N, N, N, N,           -- Traffic Police Administration: 11, -, 10, -, -
  N, -2, 4, 6, -10,        -- Countermeasures against Cybercrime
  N, 1, 0, -1, 1,          -- International Crime Investigation
  N, N, N, 0, N,           -- Criminal Identification: -, -, 10, 10, -
}, "change")
assert(m:ncol() == 5 and m:names()[5] == "change")

-- the same on the rows in another order: results stay with their rows
local shuffled = t:sort("-year", "participants")
local ms = shuffled:mutate("change = participants - lag(participants)",
                           { order_by = { "year" }, partition_by = { "program" } })
local want = {}
for _, r in m:rows() do want[r.program .. r.year] = r.change end
for _, r in ms:rows() do
  assert(r.change == want[r.program .. r.year], r.program .. " " .. r.year)
end

-- a reference computed in Lua: the previous year's value of each program
local prev, seen, ps = {}, {}, t:col("participants"):totable()
local lagged = t:mutate("prev = lag(participants, 1, -1)", { order_by = "year",
                                                              partition_by = "program" })
local got = lagged:col("prev"):totable()
for k, program in ipairs(t:col("program"):totable()) do
  local want = seen[program] and prev[program] or -1
  assert(got[k] == want, "lag row " .. k)
  seen[program], prev[program] = true, ps[k]
end

-- lead, cumsum (nulls keep the running sum), rank with ties, row_number
local w = t:mutate("next = lead(participants)", "total = cumsum(participants)",
                   "n = row_number()", { order_by = "year", partition_by = "program" })
same(w:filter("program == 'Traffic Police Administration'"):col("total"):totable(),
     { 11, 11, 21, 21, 21 }, "cumsum")
same(w:filter("program == 'Criminal Identification'"):col("total"):totable(),
     { N, N, 10, 20, 20 }, "cumsum before the first value")
same(w:filter("program == 'Community Policing'"):col("next"):totable(),
     { 14, 14, 15, N, N }, "lead")
same(w:filter("year == 2018"):col("n"):totable(), { 3, 3, 3, 3, 3, 3, 3, 3 }, "row_number")
assert(t:mutate("total = cumsum(participants)"):col("total")[40] == 446)

local r = t:filter("year == 2018"):mutate("r = rank()", { order_by = "-participants" })
-- 2018: 11 14 25 20 10 17 10 10
same(r:col("r"):totable(), { 5, 4, 1, 2, 6, 3, 6, 6 }, "rank")
local rk = t:mutate("r = rank()", "i = row_number()",
                    { order_by = "-participants", partition_by = "year" })
same(rk:filter("year == 2018"):col("r"):totable(), { 5, 4, 1, 2, 6, 3, 6, 6 }, "rank by year")
same(rk:filter("year == 2018"):col("i"):totable(), { 5, 4, 1, 2, 6, 3, 7, 8 }, "row_number")
-- nulls sort last and tie among themselves
same(rk:filter("year == 2020"):col("r"):totable(), { 3, 3, 3, 3, 3, 1, 2, 3 }, "null ranks")

-- the table's order without options; definitions given as a list
local plain = t:head(3):mutate({ "a = lag(year)", "b = a + 1" })
same(plain:col("b"):totable(), { N, 2017, 2018 }, "plain")
assert(#t:mutate("x = 1", {}) == 40)

-- errors
check_error("mutate: unknown option 'order' (the options are: order_by, partition_by)",
            t.mutate, t, "x = lag(year)", { order = "year" })
check_error("mutate: unknown column 'yaer' in order_by (did you mean 'year'?)",
            t.mutate, t, "x = lag(year)", { order_by = "yaer" })
check_error("mutate: unknown column 'progam' in partition_by (did you mean 'program'?)",
            t.mutate, t, "x = 1", { partition_by = "progam" })
check_error("mutate: order_by must be a column name or a list of names, got number",
            t.mutate, t, "x = 1", { order_by = 1 })
check_error("mutate: entry 2 of partition_by must be a string, got boolean",
            t.mutate, t, "x = 1", { partition_by = { "year", true } })
check_error("mutate: \"x = rank()\": rank() needs the order_by option at column 5",
            t.mutate, t, "x = rank()")
check_error("lag's offset must be an integer literal >= 0", t.mutate, t, "x = lag(year, -1)")
check_error("cumsum of string values", t.mutate, t, "x = cumsum(program)")
check_error("filter: \"lag(year) > 2016\": window function 'lag' outside of mutate at column 1",
            t.filter, t, "lag(year) > 2016")
check_error("window function 'row_number' outside of mutate",
            function() return t:group_by("program"):agg("n = row_number()") end)

-- describe
local d = t:describe()
same(d:names(), { "name", "type", "count", "nulls", "distinct", "mean", "std", "min", "25%",
                  "50%", "75%", "max", "top" }, "describe names")
assert(#d == 4)
same(d:col("name"):totable(), { "program", "year", "participants", "countries" }, "names")
same(d:col("type"):totable(), { "string", "int", "int", "int" }, "types")
same(d:col("count"):totable(), { 40, 40, 30, 30 }, "count")
same(d:col("nulls"):totable(), { 0, 0, 10, 10 }, "nulls")
same(d:col("distinct"):totable(), { 8, 5, 14, 13 }, "distinct")
same(d:col("top"):totable(), { "Organization Management for Senior Police Officers", "2016",
                               "10", "14" }, "top")   -- 14, 8 and 10 four times each
local row = d[1]
assert(row.mean == nil and row.std == nil and row.min == nil and row.max == nil)   -- nulls
local y, p, c = d[2], d[3], d[4]
assert(y.mean == 2018 and y.min == 2016 and y["25%"] == 2017 and y["50%"] == 2018
       and y["75%"] == 2019 and y.max == 2020)
near(y.std, math.sqrt(80 / 39), "std of year")
near(p.mean, 446 / 30, "mean of participants")
near(p.std, 5.230766630258884, "std of participants")
assert(p.min == 9 and p["25%"] == 10 and p["50%"] == 13.5 and p["75%"] == 19.75 and p.max == 25)
near(c.mean, 404 / 30, "mean of countries")
near(c.std, 4.4700793276408755, "std of countries")
assert(c.min == 8 and c["25%"] == 10 and c["50%"] == 13 and c["75%"] == 16.5 and c.max == 25)
assert(math.type(y.min) == "float" and math.type(y.count) == "integer")

local dd = tally.read_csv("data/jdr_dispatches.csv"):describe()   -- 16 rows
same(dd:col("type"):totable(), { "date", "string", "string", "int" }, "jdr types")
same(dd:col("distinct"):totable(), { 16, 15, 3, 12 }, "jdr distinct")
same(dd:col("top"):totable(), { "1990-06-01", "Taiwan", "Earthquake", "11" }, "jdr top")
local ps = dd[4]
assert(ps.count == 16 and ps.nulls == 0 and ps.mean == 18.125 and ps.min == 2 and ps.max == 45)
assert(ps["25%"] == 10.5 and ps["50%"] == 17 and ps["75%"] == 21.5)
near(ps.std, 11.94361754243663, "std of persons")
assert(dd[1].mean == nil and dd[1].min == nil)

print("test_window.lua: ok")
