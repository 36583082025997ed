-- Values and tables as text: tostring(t), tostring(c), tostring(r).
-- Run from the repository root: tally tests/lua/test_format.lua

local tally = require "tally"

local function lines(s)
  local out = {}
  for line in (s .. "\n"):gmatch("(.-)\n") do out[#out + 1] = line end
  return out
end

local function expect(got, want)
  assert(got == want, string.format("\nexpected:\n%s\ngot:\n%s", want, got))
end

-- floats: shortest round trip, integral floats keep ".0", inf and nan
do
  local f = tally.from_columns{ {"x", {1 / 3, 0.1, 1e15, 2 ^ 53, -0.0, 1 / 0, -1 / 0, 0 / 0,
                                       100.0, 1e300, 5e-324}} }
  expect(tostring(f.x), "column 'x' (float, 11 rows): 0.3333333333333333, 0.1, 1e+15, "
         .. "9007199254740992.0, -0.0, inf, -inf, nan, 100.0, 1e+300, ...")
  tally.options{ digits = 0 }                    -- every digit, as files keep them
  expect(tostring(f), table.concat({
    "                    x",
    "---------------------",
    "   0.3333333333333333",
    "                  0.1",
    "                1e+15",
    "   9007199254740992.0",
    "                 -0.0",
    "                  inf",
    "                 -inf",
    "                  nan",
    "                100.0",
    "               1e+300",
    "4.94065645841247e-324",   -- %.15g already reads back
    "[11 rows x 1 column: x float]"}, "\n"))
  -- at the display precision (6 significant digits by default): an
  -- integral part longer than that stays whole, only integral values end
  -- in ".0"
  assert(tally.options{ digits = 6 }.digits == 6)
  expect(tostring(f), table.concat({
    "           x",
    "------------",
    "    0.333333",
    "         0.1",
    "       1e+15",
    "  9.0072e+15",
    "        -0.0",
    "         inf",
    "        -inf",
    "         nan",
    "       100.0",
    "      1e+300",
    "4.94066e-324",
    "[11 rows x 1 column: x float]"}, "\n"))
  local g = tally.from_columns{ {"v", {15.020000000000001, 135450.25, 1354501.75, 0.000123456789,
                                       2.0, -7.125}} }
  expect(g:format{ color = false, width = 0 }, table.concat({
    "          v",
    "-----------",
    "      15.02",
    "     135450",
    "    1354502",
    "0.000123457",
    "        2.0",
    "     -7.125",
    "[6 rows x 1 column: v float]"}, "\n"))
  tally.options{ digits = 3 }
  local s3 = g:format{ color = false }
  assert(s3:find("\n      15\n", 1, true) and s3:find("\n   -7.12\n", 1, true), s3)
  tally.options{ digits = 6 }
  -- a single number and files keep every digit
  assert(tostring(g[1]) == "{v = 15.020000000000001}" and g.v[1] == 15.020000000000001)
  -- every value reads back as the same double
  for i = 1, 5 do
    local s = tostring(f[i]):match("x = (.*)}")
    assert(tonumber(s) == f.x[i], s)
  end
end

-- integers, booleans, nulls; strings left-aligned, numbers right-aligned
do
  local t = tally.from_columns{
    {"id", {1, 22, 333}},
    {"ok", {true, false, tally.null}},
    {"name", {"a", tally.null, "ccc"}},
    {"n", {math.mininteger, 0, math.maxinteger}},
  }
  expect(tostring(t), table.concat({
    " id  ok     name                     n",
    "---  -----  ----  --------------------",
    "  1  true   a     -9223372036854775808",
    " 22  false  null                     0",
    "333  null   ccc    9223372036854775807",
    "[3 rows x 4 columns: id int, ok bool, name string, n int]"}, "\n"))
  expect(tostring(t[2]), '{id = 22, ok = false, name = null, n = 0}')
  expect(tostring(t.ok), "column 'ok' (bool, 3 rows): true, false, null")
end

-- UTF-8 counts by code points; long cells are cut to 40 with "..."; control
-- characters are escaped so rows stay on one line
do
  local long = string.rep("é", 45)
  local t = tally.from_columns{ {"s", {"ünï", long, "a\tb\nc", string.rep("x", 40)}},
                                {"n", {1, 2, 3, 4}} }
  local l = lines(tostring(t))
  expect(l[1], "s" .. string.rep(" ", 41) .. "n")
  expect(l[2], string.rep("-", 40) .. "  -")
  expect(l[3], "ünï" .. string.rep(" ", 37) .. "  1")
  expect(l[4], string.rep("é", 37) .. "...  2")
  expect(l[5], "a\\tb\\nc" .. string.rep(" ", 33) .. "  3")
  expect(l[6], string.rep("x", 40) .. "  4")
  expect(l[7], "[4 rows x 2 columns: s string, n int]")
  -- a column name that is not an identifier, and quotes in values
  local q = tally.from_columns{ {"No. of persons", {1}}, {"s", {'say "hi"\\'}} }
  expect(tostring(q[1]), '{["No. of persons"] = 1, s = "say \\"hi\\"\\\\"}')
end

-- head and tail of a long table: 20 rows shown by default
do
  local xs = {}
  for i = 1, 21 do xs[i] = i end
  local t = tally.from_columns{ {"i", xs} }
  local l = lines(tostring(t))
  expect(#l, 2 + 10 + 1 + 10 + 1)
  expect(l[12], " 10")
  expect(l[13], "...")
  expect(l[14], " 12")
  expect(l[#l], "[21 rows x 1 column: i int]")
  -- exactly 20 rows: all of them
  local t20 = t:head(20)
  l = lines(tostring(t20))
  expect(#l, 2 + 20 + 1)
  for _, line in ipairs(l) do assert(line ~= "...") end
end

-- empty tables
do
  local e = tally.from_columns{ {"year", {}}, {"name", {}} }
  expect(tostring(e), "year  name\n----  ----\n[0 rows x 2 columns: year string, name string]")
  expect(tostring(tally.from_columns{}), "[0 rows x 0 columns]")
  expect(tostring(e.year), "column 'year' (string, 0 rows)")
end

-- dates from CSV
do
  local d = tally.read_csv("data/jdr_dispatches.csv"):head(2)
  expect(tostring(d), table.concat({
    "date        country      disaster    persons",
    "----------  -----------  ----------  -------",
    "1990-06-01  Iran         Earthquake        6",
    "1990-07-01  Philippines  Earthquake       11",
    "[2 rows x 4 columns: date date, country string, disaster string, persons int]"}, "\n"))
  expect(tostring(d[2]),
         '{date = "1990-07-01", country = "Philippines", disaster = "Earthquake", persons = 11}')
end

print("test_format: ok")
