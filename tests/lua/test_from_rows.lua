-- tally.from_rows: rows keyed by name into columns.
-- Run from the repository root: tally tests/lua/test_from_rows.lua

local tally = require "tally"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

-- with names: their order, missing keys as nulls
local t = tally.from_rows({ { year = 2016, n = 11 }, { year = 2017 }, { n = 13, extra = 1 } },
                          { "year", "n" })
assert(#t == 3 and t:ncol() == 2)
assert(t:names()[1] == "year" and t:names()[2] == "n")
assert(t.year:type() == "int" and t[2].n == nil and t[3].year == nil and t[3].n == 13)
assert(t.n:sum() == 24)

-- without names: every string key, in byte order
local u = tally.from_rows({ { b = "x", a = 1.5 }, { a = 2, c = true } })
assert(table.concat(u:names(), ",") == "a,b,c")
assert(u.a:type() == "float" and u.b[2] == nil and u.c[2] == true and u.c[1] == nil)

-- no rows
assert(#tally.from_rows({}) == 0 and tally.from_rows({}):ncol() == 0)
assert(#tally.from_rows({}, { "a" }) == 0)

-- the same table as from_columns
local v = tally.from_columns{ { "year", { 2016, 2017, tally.null } }, { "n", { 11, tally.null, 13 } } }
for i = 1, 3 do assert(v[i].year == t[i].year and v[i].n == t[i].n) end

check_error("from_rows: row 2 is a number, not a table", tally.from_rows, { {}, 5 })
check_error("from_rows: name 1 is a number, not a string", tally.from_rows, { { a = 1 } }, { 1 })
check_error("bad argument #1 to 'from_rows'", function() return tally.from_rows("x") end)
check_error("from_rows: column 'a' row 2: expected a number, got string", tally.from_rows, { { a = 1 }, { a = "x" } })

print("test_from_rows: ok")
