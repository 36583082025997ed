-- Casts (int float string bool date timestamp), try_cast, and the hints
-- SQL habits get. Run from the repository root: tally tests/lua/test_casts.lua

local tally = require "tally"
local testing = require "tally.testing"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

local t = tally.from_columns{
  { "s", { "42", " -7 ", "12.9", "-12.9", "abc", "", tally.null, "9223372036854775807" } },
  { "f", { 1.9, -1.9, 0.0, 1e300, 0/0, 3.0, tally.null, -0.5 } },
  { "b", { true, false, true, false, true, false, tally.null, true } },
}

-- try_cast: null where the value does not convert
local c = t:mutate("i = try_cast(s, 'int')", "x = try_cast(s, 'float')", "fi = try_cast(f, 'int')",
                   "bs = try_cast(s, 'bool')", "d = try_cast(s, 'date')")
local want_i = { 42, -7, 12, -12, nil, nil, nil, math.maxinteger }
local want_fi = { 1, -1, 0, nil, nil, 3, nil, 0 }
for k = 1, #t do
  assert(c[k].i == want_i[k], "try_cast int at row " .. k)
  assert(c[k].fi == want_fi[k], "try_cast float to int at row " .. k)
  assert(c[k].d == nil)
end
assert(c[3].x == 12.9 and c[5].x == nil and c[6].x == nil and c[1].bs == nil)
assert(c:col("i"):type() == "int" and c:col("d"):type() == "date")

-- the casts themselves
local ok = t:filter("s ~= 'abc' and s ~= ''"):mutate("i = int(s)", "x = float(s)", "str = string(f)",
  "bi = int(b)", "bf = float(b)", "fb = bool(f)", "sb = string(b)", "si = string(int(s))")
assert(ok[1].i == 42 and ok[2].i == -7 and ok[3].i == 12 and ok[4].i == -12)
assert(ok[1].x == 42.0 and ok[3].x == 12.9)
assert(ok[1].str == "1.9" and ok[3].str == "0.0" and ok[1].bi == 1 and ok[2].bf == 0.0)
assert(ok[1].fb == true and ok[3].fb == false and ok[1].sb == "true" and ok[2].si == "-7")
assert(ok[5].i == math.maxinteger and ok[5].str == "-0.5")
local nl = t:filter("is_null(f) or f < 100"):mutate("str = string(f)", "i = try_cast(f, 'int')", "b2 = bool(b)")
assert(nl[5].str == nil and nl[5].i == nil and nl[5].b2 == nil)   -- nulls stay null

local d = tally.from_columns{ { "s", { "2016-02-29", "2016-02-29T10:30:00", " 2016-03-01 ", "yes", "N" } } }
local dm = d:head(3):mutate("d = date(s)", "ts = timestamp(s)", "back = date(timestamp(date(s)))",
                            "str = string(timestamp(s))")
assert(dm[1].d == "2016-02-29" and dm[2].d == "2016-02-29" and dm[3].d == "2016-03-01")
assert(dm[1].ts == "2016-02-29T00:00:00" and dm[2].ts == "2016-02-29T10:30:00")
assert(dm[2].back == "2016-02-29" and dm[2].str == "2016-02-29T10:30:00")
local bm = d:slice(4, 5):mutate("b = bool(s)")
assert(bm[1].b == true and bm[2].b == false)

-- a value that does not convert is an error naming the row and the value
check_error("mutate: int: 'abc' at row 5 is not an integer", function() return t:mutate("i = int(s)") end)
check_error("filter: float: 'abc' at row 5 is not a number",
            function() return t:filter("float(s) > 0") end)
check_error("int: '1e+300' at row 4 is out of the range of int", function() return t:mutate("i = int(f)") end)
check_error("int: 'nan' at row 4 is out of the range of int",
            function() return t:filter("f ~= 1e300"):mutate("i = int(f)") end)
check_error("date: 'yes' at row 4 is not a date", function() return d:mutate("x = date(s)") end)
check_error("bool: '2016-02-29' at row 1 is not a boolean", function() return d:mutate("x = bool(s)") end)
check_error("cannot cast date to int", function() return d:mutate("x = int(date(s))") end)
check_error("cannot cast bool to date", function() return t:mutate("x = date(b)") end)
check_error("unknown type 'integer' (use int float string bool date or timestamp)",
            function() return t:mutate("x = try_cast(s, 'integer')") end)
check_error("try_cast's type must be a string constant", function() return t:mutate("x = try_cast(s, s)") end)

-- the same values on one thread and on several
for _, th in ipairs{ 1, 2 } do
  tally.threads(th)
  local big = tally.from_columns{ { "s", (function()
    local v = {}
    for k = 1, 100000 do v[k] = k % 7 == 0 and "x" .. k or tostring(k) end
    return v end)() } }
  local r = big:mutate("i = try_cast(s, 'int')")
  for k = 1, #big, 97 do
    local want = k
    if k % 7 == 0 then want = nil end
    assert(r[k].i == want, "row " .. k)
  end
end

-- the same values on every path: vectors of one row, no folding, several threads
for _, vs in ipairs{ 1, 7, 2048 } do
  local r = testing.with({ vector_size = vs }, t.mutate, t, "i = try_cast(s, 'int')")
  for k = 1, #t do assert(r[k].i == want_i[k], "vector size " .. vs .. ", row " .. k) end
end

-- SQL habits get a hint, the caret at the token
check_error('filter: "year = 2016": unexpected \'=\' (did you mean \'==\'?) at column 6',
            function() return tally.from_columns{ { "year", { 1 } } }:filter("year = 2016") end)
check_error('"year <> 2016": unexpected \'<>\' (did you mean \'~=\'?) at column 6',
            function() return tally.from_columns{ { "year", { 1 } } }:filter("year <> 2016") end)
check_error("expected ')', found '=' (did you mean '=='?) at column 7",
            function() return tally.from_columns{ { "year", { 1 } } }:filter("(year = 2016)") end)

print("test_casts: ok")
