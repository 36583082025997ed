-- sort, top, slice, distinct, concat, value_counts and unique.
-- Run from the repository root: tally tests/lua/test_sort.lua

local tally = require "tally"

-- f(...) must fail with a message containing `msg` (plain text).
local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

local null = tally.null

local function same_array(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do
    if a[i] ~= b[i] then return false end
  end
  return true
end

-- the values of column `name` of t as an array, nulls as tally.null
local function col(t, name)
  return t:col(name):totable()
end

local function check_col(t, name, want)
  local got = col(t, name)
  if not same_array(got, want) then
    local g = {}
    for i = 1, #got do g[i] = tostring(got[i]) end
    error(string.format("column '%s': got {%s}", name, table.concat(g, ", ")), 2)
  end
end

-- The order the contract gives, computed in Lua: per key, values (in the
-- key's direction), then nulls; then the original row.
local function reference_order(t, keys)
  local cols, desc = {}, {}
  for k, key in ipairs(keys) do
    desc[k] = key:sub(1, 1) == "-"
    cols[k] = col(t, desc[k] and key:sub(2) or key)
  end
  local rows = {}
  for i = 1, #t do rows[i] = i end
  table.sort(rows, function(a, b)
    for k = 1, #keys do
      local x, y = cols[k][a], cols[k][b]
      if x == null or y == null then
        if x ~= y then return y == null end
      elseif x ~= y then
        if desc[k] then return x > y else return x < y end
      end
    end
    return a < b
  end)
  return rows
end

-- s must hold the rows of t in the reference order of `keys`.
local function check_order(t, s, keys)
  assert(#s == #t)
  local rows = reference_order(t, keys)
  for j, name in ipairs(t:names()) do
    local src, got = col(t, name), col(s, name)
    for i = 1, #rows do
      assert(got[i] == src[rows[i]],
             string.format("sort by %s: row %d, column %s", table.concat(keys, ","), i, name))
    end
  end
end

local t = tally.read_csv("data/jica_training.csv")      -- 40 rows, 10 null participants
local d = tally.read_csv("data/jdr_dispatches.csv")     -- 16 rows

-- sort ---------------------------------------------------------------------------------
do
  local s = d:sort("-persons")
  check_col(s, "persons", { 45, 43, 23, 23, 21, 20, 20, 19, 15, 15, 11, 11, 9, 7, 6, 2 })
  -- stable: equal counts keep the order of the table
  check_col(s, "country", { "Taiwan", "New Zealand", "Nepal", "Mexico", "Indonesia",
                            "Thailand", "China", "Algeria", "Colombia", "Pakistan",
                            "Philippines", "Malaysia", "Egypt", "Morocco", "Iran", "Taiwan" })
  check_col(d:sort("persons"):head(4), "country", { "Taiwan", "Iran", "Morocco", "Egypt" })
  check_col(d:sort("-date"):head(3), "date", { "2018-02-01", "2017-09-01", "2015-04-01" })
  check_col(d:sort("country"):head(4), "country", { "Algeria", "China", "Colombia", "Egypt" })
  check_col(d:sort("-country"):head(3), "date", { "2004-12-01", "1999-09-01", "2018-02-01" })
  -- several keys, as arguments or as one array
  local m = d:sort("disaster", "-persons")
  check_col(m, "country", { "Malaysia", "Egypt", "Taiwan", "New Zealand", "Nepal", "Mexico",
                            "Indonesia", "China", "Algeria", "Colombia", "Pakistan",
                            "Philippines", "Morocco", "Iran", "Taiwan", "Thailand" })
  check_col(d:sort{ "disaster", "-persons" }, "country", col(m, "country"))
  check_order(d, d:sort("-persons", "date"), { "-persons", "date" })
  check_order(d, d:sort("disaster", "country", "-date"), { "disaster", "country", "-date" })
  assert(#d == 16 and d[1].country == "Iran")              -- the source is unchanged

  -- nulls last in both directions, in table order
  local p = t:sort("-participants")
  assert(p[1].participants == 25 and p[1].program == "Control of Drug Offenses")
  assert(p[30].participants == 9 and p[31].participants == nil and p[40].participants == nil)
  check_col(p:slice(31, 40), "year", { 2020, 2020, 2020, 2020, 2017, 2019, 2020, 2016, 2017, 2020 })
  local a = t:sort("participants")
  check_col(a:head(3), "program", { "Community Policing", "International Crime Investigation",
                                    "International Crime Investigation" })
  check_col(a:head(3), "year", { 2016, 2016, 2019 })
  assert(a[31].participants == nil and a[31].program:sub(1, 12) == "Organization")
  for _, keys in ipairs{ { "participants" }, { "-participants" }, { "program", "-year" },
                         { "-program", "countries", "year" }, { "-countries", "-participants" },
                         { "year", "program" }, { "-year", "-program" } } do
    check_order(t, t:sort(keys), keys)
  end
  -- strings by bytes: every upper-case letter before every lower-case one
  local w = tally.from_columns{ { "s", { "b", "a", "B", "\u{e9}", "A", "ab" } } }
  check_col(w:sort("s"), "s", { "A", "B", "a", "ab", "b", "\u{e9}" })
  check_col(w:sort("-s"), "s", { "\u{e9}", "b", "ab", "a", "B", "A" })
  -- floats: NaN above every number (last ascending, first descending, as in
  -- DuckDB), nulls last either way, -0.0 equal to 0.0
  local f = tally.from_columns{ { "x", { 1.5, 0 / 0, null, -0.0, 0.0, -2.0, math.huge } },
                                { "id", { 1, 2, 3, 4, 5, 6, 7 } } }
  check_col(f:sort("x"), "id", { 6, 4, 5, 1, 7, 2, 3 })
  check_col(f:sort("-x"), "id", { 2, 7, 1, 4, 5, 6, 3 })
  check_col(f:top(5, "-x"), "id", { 2, 7, 1, 4, 5 })
  check_col(f:top(6, "x"), "id", { 6, 4, 5, 1, 7, 2 })
  -- empty and one-row tables
  local e = d:slice(1, 0)
  assert(#e == 0 and #e:sort("persons") == 0 and #e:top(3, "-date") == 0)
  assert(e:ncol() == 4)
  local one = d:slice(6, 6)
  assert(#one:sort("-persons") == 1 and one:top(5, "country")[1].persons == 45)
end

-- top ----------------------------------------------------------------------------------
do
  local s = d:top(3, "-persons")
  check_col(s, "persons", { 45, 43, 23 })
  check_col(s, "country", { "Taiwan", "New Zealand", "Nepal" })   -- the first of two 23s
  check_col(s, "date", { "1999-09-01", "2011-02-01", "2015-04-01" })
  check_col(d:top(2, "persons"), "country", { "Taiwan", "Iran" })
  check_col(d:top(2, { "disaster", "-persons" }), "country", { "Malaysia", "Egypt" })
  check_col(t:top(5, "participants", "-year"), "program", {
    "International Crime Investigation", "Community Policing",
    "International Crime Investigation", "International Crime Investigation",
    "Criminal Identification" })
  check_col(t:top(5, "participants", "-year"), "year", { 2019, 2016, 2016, 2020, 2019 })
  assert(#d:top(0, "persons") == 0 and d:top(0, "persons"):ncol() == 4)
  -- top equals sort and head, for every n, with ties and nulls
  for _, keys in ipairs{ { "-persons" }, { "persons" }, { "disaster", "-date" },
                         { "-country" } } do
    local sorted = d:sort(keys)
    for n = 0, 18 do
      local got = d:top(n, keys)
      assert(#got == math.min(n, 16))
      for _, name in ipairs(d:names()) do
        assert(same_array(col(got, name), col(sorted:head(n), name)),
               "top " .. n .. " by " .. table.concat(keys, ","))
      end
    end
  end
  for _, keys in ipairs{ { "-participants" }, { "participants", "program" }, { "-countries" } } do
    local sorted = t:sort(keys)
    for _, n in ipairs{ 1, 5, 10, 29, 30, 31, 35, 40, 41 } do
      assert(same_array(col(t:top(n, keys), "year"), col(sorted:head(n), "year")))
      assert(same_array(col(t:top(n, keys), "program"), col(sorted:head(n), "program")))
    end
  end
end

-- head, tail, slice --------------------------------------------------------------------
do
  check_col(d:head(2), "country", { "Iran", "Philippines" })
  check_col(d:tail(2), "country", { "Mexico", "Taiwan" })
  check_col(d:slice(2, 4), "country", { "Philippines", "Malaysia", "Egypt" })
  check_col(d:slice(-2), "country", { "Mexico", "Taiwan" })
  check_col(d:slice(-3, -2), "country", { "Nepal", "Mexico" })
  check_col(d:slice(15, 100), "country", { "Mexico", "Taiwan" })
  check_col(d:slice(-100, 2), "country", { "Iran", "Philippines" })
  assert(#d:slice(0) == 16 and #d:slice(1) == 16 and #d:slice(1, -1) == 16)
  assert(#d:slice(5, 3) == 0 and #d:slice(17) == 0 and #d:slice(3, -15) == 0)
  assert(#d:slice(2, -15) == 1 and d:slice(2, -15)[1].country == "Philippines")
  assert(d:slice(5, 3):ncol() == 4)
end

-- distinct -----------------------------------------------------------------------------
do
  local k = d:distinct("disaster")
  assert(#k == 3 and k:ncol() == 1)
  check_col(k, "disaster", { "Earthquake", "Building collapse", "Tsunami" })
  assert(#d:distinct("country") == 15)
  assert(#d:distinct("country", "disaster") == 15)
  local cd = d:distinct{ "disaster", "country" }
  assert(cd:ncol() == 2 and cd:names()[1] == "disaster" and #cd == 15)
  assert(#d:distinct() == 16 and d:distinct():ncol() == 4)
  check_col(t:distinct("year"), "year", { 2016, 2017, 2018, 2019, 2020 })
  assert(#t:distinct("program") == 8)
  local pc = t:distinct("participants")
  check_col(pc, "participants", { 11, 13, 14, null, 9, 15, 19, 22, 25, 24, 20, 21, 10, 17, 23 })
  assert(#t:distinct("program", "participants") == 28)
end

-- concat -------------------------------------------------------------------------------
do
  local c = d:concat(d)
  assert(#c == 32 and c:ncol() == 4 and c.persons:sum() == 580)
  assert(c[17].country == "Iran" and c[32].country == "Taiwan")
  local c3 = d:head(2):concat(d:tail(1), d:slice(5, 5))
  check_col(c3, "country", { "Iran", "Philippines", "Taiwan", "Colombia" })
  check_col(d:head(1):concat{ d:tail(1), d:head(1) }, "persons", { 6, 2, 6 })
  assert(#d:concat() == 16)
  -- int and float make a float column; a missing column is null
  local extra = tally.from_columns{ { "persons", { 1.5 } }, { "note", { "estimate" } } }
  local x = d:concat(extra)
  assert(#x == 17 and x:ncol() == 5 and x.persons:type() == "float")
  assert(x.persons:sum() == 291.5 and x.note:nulls() == 16 and x[17].date == nil)
  assert(x[17].note == "estimate" and x[1].persons == 6.0)
  check_col(extra:concat(d:head(1)), "date", { null, "1990-06-01" })
  assert(extra:concat(d:head(1)):names()[3] == "date")
  -- dictionary strings with others
  local mixed = t:head(2):concat(tally.from_columns{ { "program", { "New" } } })
  check_col(mixed, "program", { "Organization Management for Senior Police Officers",
                                "Organization Management for Senior Police Officers", "New" })
  check_col(mixed, "year", { 2016, 2017, null })
end

-- value_counts and unique -------------------------------------------------------------
do
  local v = d.disaster:value_counts()
  assert(v:ncol() == 2 and v:names()[1] == "value" and v:names()[2] == "count")
  check_col(v, "value", { "Earthquake", "Building collapse", "Tsunami" })
  check_col(v, "count", { 13, 2, 1 })
  local cv = d.country:value_counts()
  assert(#cv == 15 and cv[1].value == "Taiwan" and cv[1].count == 2)
  assert(cv[2].value == "Iran" and cv[15].value == "Mexico" and cv[15].count == 1)
  -- ties in order of first appearance, the null value counted
  local pv = t.participants:value_counts()
  check_col(pv, "value", { null, 10, 11, 13, 14, 9, 22, 15, 19, 25, 24, 20, 21, 17, 23 })
  check_col(pv, "count", { 10, 6, 3, 3, 3, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1 })
  check_col(t.year:value_counts(), "count", { 8, 8, 8, 8, 8 })
  check_col(d.persons:value_counts():head(3), "value", { 11, 15, 20 })

  local u = d.disaster:unique()
  assert(u:type() == "string" and u:name() == "disaster" and #u == 3)
  assert(same_array(u:totable(), { "Earthquake", "Building collapse", "Tsunami" }))
  local up = t.participants:unique()
  assert(#up == 15 and up:nulls() == 1 and up[4] == nil and up[5] == 9)
  assert(same_array(t.year:unique():totable(), { 2016, 2017, 2018, 2019, 2020 }))
  assert(#d.date:unique() == 16 and d.date:unique():type() == "date")
  assert(#d:slice(1, 0).country:unique() == 0)
  assert(#d:slice(1, 0).country:value_counts() == 0)
end

-- errors -------------------------------------------------------------------------------
do
  check_error("sort: unknown column 'persns' (did you mean 'persons'?)", d.sort, d, "persns")
  check_error("sort: unknown column 'yaer' (did you mean 'year'?)", t.sort, t, "program", "-yaer")
  check_error("sort: unknown column 'zzz'", d.sort, d, { "zzz" })
  check_error("sort: expected at least one key", d.sort, d)
  check_error("sort: argument 1 must be a column name, got number", d.sort, d, 1)
  check_error("sort: entry 2 of the list must be a string, got boolean", d.sort, d, { "date", true })
  check_error("top: unknown column 'persns' (did you mean 'persons'?)", d.top, d, 3, "-persns")
  check_error("top: expected at least one key", d.top, d, 3)
  check_error("top: the number of rows must be an integer in [0, 9223372036854775807], got -1", d.top, d, -1, "persons")
  check_error("top: the number of rows must be an integer in [0, 9223372036854775807], got string", d.top, d, "x", "persons")
  check_error("top: the number of rows must be an integer in [0, 9223372036854775807], got 1.5", d.top, d, 1.5, "persons")
  check_error("slice: the first row must be an integer, got no value", d.slice, d)
  check_error("slice: the last row must be an integer, got string", d.slice, d, 1, "z")
  check_error("distinct: unknown column 'contry' (did you mean 'country'?)", d.distinct, d, "contry")
  check_error("distinct: column 'date' is named twice", d.distinct, d, "date", "date")
  check_error("concat: argument 2 must be a table, got number", d.concat, d, 5)
  check_error("concat: entry 1 must be a table, got string", d.concat, d, { "x" })
  check_error("concat: column 'persons' is int in table 1 but string in table 2",
              d.concat, d, tally.from_columns{ { "persons", { "many" } } })
  check_error("concat: column 'date' is date in table 2 but int in table 3",
              d.concat, d:select("persons"), d, tally.from_columns{ { "date", { 1 } } })
end

print("test_sort: ok")
