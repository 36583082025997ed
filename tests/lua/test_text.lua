-- The text functions and operators of the everyday library, UTF-8 throughout:
-- DuckDB's answers on texts with accents, combining marks, CJK, empty strings
-- and nulls (tests/data/everyday/duckdb_answers.lua, written by the .js
-- beside it), on 1 and 4 threads over many copies of the rows; then edge
-- cases, invalid UTF-8 (an error naming the row) and type errors.
-- Run from the repository root: tally tests/lua/test_text.lua

local tally = require "tally"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

local N = tally.null
local function same(a, b)
  if a == N or b == N or a == nil or b == nil then
    return (a == nil or a == N) and (b == nil or b == N)
  end
  if math.type(a) == "float" or math.type(b) == "float" then
    return math.abs(a - b) <= 1e-12 * math.max(1, math.abs(a))
  end
  return a == b
end

local ans = dofile("tests/data/everyday/duckdb_answers.lua")(N).text
local rows = #ans.s
-- many copies of the rows, so that the vectors and threads split them
local copies = 700
local s, n = {}, {}
for c = 0, copies - 1 do
  for i = 1, rows do s[c * rows + i] = ans.s[i]; n[c * rows + i] = ans.n[i] end
end
local t = tally.from_columns{ { "s", s }, { "n", n } }

local regex = { regexp_matches = true, regexp_replace = true, regexp_extract = true }
local checked = 0
for _, threads in ipairs{ 1, 4 } do
  tally.threads(threads)
  for _, c in ipairs(ans.cases) do
    if os.getenv("TALLY_TEXT_ONLY_REGEX") == nil or regex[c[1]:match("^(%w+)")] then
      local col = t:mutate("v = " .. c[1]).v
      for i = 1, #t do
        local want = c[2][(i - 1) % rows + 1]
        if not same(col[i], want) then
          error(string.format("%d threads: %s, row %d (%q): %s, DuckDB %s", threads, c[1], i,
                              tostring(s[i]), tostring(col[i]), tostring(want)))
        end
      end
      checked = checked + 1
    end
  end
end
assert(checked == 2 * #ans.cases)

-- edge cases
local e = tally.from_columns{ { "s", { "", "a\u{301}", "ß", "İ", "ﬁ" } } }
local r = e:mutate("l = len(s)", "u = upper(s)", "lo = lower(s)", "r = reverse(s)",
                   "p = lpad(s, 3, 'é')", "q = rpad(s, 0, 'x')", "x = left(s, -1)",
                   "sp = split_part(s, '', 1)", "rp = replace(s, '', 'x')", "c = strpos(s, '')")
assert(r[1].l == 0 and r[1].u == "" and r[1].r == "" and r[1].p == "ééé" and r[1].sp == "")
assert(r[2].l == 2 and r[2].u == "A\u{301}" and r[2].r == "a\u{301}")   -- the mark stays on its letter
assert(r[2].x == "a" and r[2].sp == "a")
assert(r[3].u == "ẞ" and r[3].lo == "ß" and r[3].q == "")
assert(r[4].lo == "i\u{307}" or r[4].lo == "i")   -- utf8proc's simple mapping
assert(r[5].u == "ﬁ" or r[5].u == "FI")
assert(r[1].rp == "" and r[2].rp == "a\u{301}" and r[1].c == 1)

-- in, nullif, greatest, least, is_nan, sign
local m = tally.from_columns{ { "x", { 1, 2, N, 4 } }, { "f", { 1.5, 0/0, -2.0, N } },
                              { "d", { "2020-01-01", "2021-06-30", N, "2019-12-31" } } }
local mr = m:mutate("a = x in (1, 4)", "b = x not in (1, null)", "c = x in (2.0, 9)",
                    "g = greatest(x, f)", "l = least(x, f, 0)", "z = is_nan(f)", "sg = sign(f)",
                    "nn = nullif(x, 2)", "gs = greatest(d, '2020-06-01')")
assert(mr[1].a == true and mr[2].a == false and mr[3].a == nil and mr[4].a == true)
assert(mr[1].b == false and mr[2].b == nil and mr[3].b == nil)   -- not in a list with a null: never true
assert(mr[2].c == true and mr[1].c == false)
assert(mr[1].g == 1.5 and mr[2].g ~= mr[2].g and mr[3].g == -2.0 and mr[4].g == 4.0)   -- NaN above all
assert(mr[1].l == 0 and mr[3].l == -2.0)
assert(mr[1].z == false and mr[2].z == true and mr[4].z == nil)
assert(mr[1].sg == 1 and mr[2].sg == 0 and mr[3].sg == -1 and mr[4].sg == nil)
assert(mr[1].nn == 1 and mr[2].nn == nil and mr[4].nn == 4)
assert(mr[1].gs == "2020-06-01" and mr[2].gs == "2021-06-30" and mr[3].gs == "2020-06-01")
assert(#m:filter("x in (1, 2, 3)") == 2 and #m:filter("x not in (1, 2, 3)") == 1)
check_error("'not' needs a boolean, found int", function() return m:filter("not x in (1)") end)   -- as Lua: not x first
assert(#m:filter("not (x in (1))") == 2)
assert(m:mutate("v = round(f, 1)")[1].v == 1.5 and m:mutate("v = round(2.345, 2)")[1].v == 2.35)

-- a dictionary column (read from CSV): the functions run once per entry, and
-- give what they give on the plain column; an entry no row needs cannot fail
local csv = os.tmpname()
local f = assert(io.open(csv, "w"))
f:write("k,s\n")
local plain = {}
for i = 1, 3000 do
  local v = ({ "École", "Straße", "x", "abc", "ABC", "Longer text" })[i % 6 + 1]
  if i % 7 == 0 then f:write(i, ",\n"); plain[i] = N else f:write(i, ",", v, "\n"); plain[i] = v end
end
f:close()
local dt = tally.read_csv(csv)
os.remove(csv)
local pt = tally.from_columns{ { "k", dt.k:totable() }, { "s", plain } }
local defs = { "l = lower(s)", "u = concat(upper(left(s, 3)), '!')", "r = regexp_replace(s, '[aeiou]', '_')",
               "p = lpad(s, 8, '.')" }
local a, b = dt:mutate(table.unpack(defs)), pt:mutate(table.unpack(defs))
for i = 1, #a do
  for _, name in ipairs{ "l", "u", "r", "p" } do
    assert(a[i][name] == b[i][name], string.format("row %d %s: %s vs %s", i, name, tostring(a[i][name]), tostring(b[i][name])))
  end
end
assert(a[1].l == "straße" and a[2].u == "X!" and a[7].l == nil)
assert(#dt:filter("len(s) >= 6"):mutate("v = lpad(s, 6, '')") > 0)   -- 'abc' fails only where it is
check_error("lpad: an empty padding cannot fill row 2", function() return dt:mutate("v = lpad(s, 6, '')") end)
check_error("split_part: field 0 at row 1", function() return dt:mutate("v = split_part(s, ',', 0)") end)

-- text constants among dates are dates, read when the expression is compiled
local dcsv = os.tmpname()
local df = assert(io.open(dcsv, "w"))
df:write("d\n2016-01-02\n2016-03-01\n\n2017-12-31\n")
df:close()
local dt2 = tally.read_csv(dcsv)
os.remove(dcsv)
assert(dt2.d:type() == "date")
local dr = dt2:mutate("a = d in ('2016-03-01', '2017-12-31')", "g = greatest(d, '2016-02-01')",
                      "n = nullif(d, '2016-01-02')")
assert(dr[1].a == false and dr[2].a == true and dr[3].a == nil and dr[4].a == true)
assert(tostring(dr[1].g) == "2016-02-01" and tostring(dr[4].g) == "2017-12-31")
assert(dr[1].n == nil and tostring(dr[2].n) == "2016-03-01")
check_error("'2016-02-30' is not a date", function() return dt2:filter("d in ('2016-02-30')") end)

-- invalid UTF-8: an error naming the function and the row
local bad = tally.from_columns{ { "s", { "ok", "fine", "b\xffd" } } }
for _, f in ipairs{ "lower", "upper", "len", "reverse" } do
  check_error("mutate: invalid UTF-8 in '" .. f .. "' at row 3", function() return bad:mutate("v = " .. f .. "(s)") end)
end
check_error("invalid UTF-8 in 'left' at row 3", function() return bad:mutate("v = left(s, 1)") end)
check_error("invalid UTF-8 in 'lpad' at row 3", function() return bad:mutate("v = lpad(s, 9, 'x')") end)
check_error("invalid UTF-8 in 'like' at row 3", function() return bad:filter("s like 'zz%'") end)
check_error("invalid UTF-8 in 'strpos' at row 3", function() return bad:mutate("v = strpos(s, 'x')") end)

-- errors in the arguments, before any row is read, and in rows
check_error([[mutate: "v = upper(n)": upper needs a text here, found int at column 11]],
            function() return t:mutate("v = upper(n)") end)
check_error("left needs an integer here, found string", function() return t:mutate("v = left(s, s)") end)
check_error("'in' compares int with string", function() return t:mutate("v = n in (1, 'a')") end)
check_error("like needs a text here, found int", function() return t:filter("n like 'a%'") end)
check_error("expected 'in', 'like' or 'ilike' after 'not'", function() return t:filter("n not 3") end)
check_error("expected '(' after 'in'", function() return t:filter("n in 1, 2") end)
check_error("nullif of int and string", function() return t:mutate("v = nullif(n, s)") end)
check_error("greatest of int and more", function() return t:mutate("v = greatest(n, s)") end)
check_error("is_nan of string", function() return t:mutate("v = is_nan(s)") end)
check_error("split_part: field 0 at row 1", function() return t:mutate("v = split_part(s, ',', 0)") end)
check_error("lpad: an empty padding cannot fill row 1", function() return t:mutate("v = lpad(s, 20, '')") end)
check_error("like: the escape must be one character, not 'ab' at row 1",
            function() return t:filter("s like 'a' escape 'ab'") end)
check_error("like: bad pattern 'a!' at row 1", function() return t:filter("s like 'a!' escape '!'") end)
print("test_text: ok")
