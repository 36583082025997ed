-- Regular expressions (PCRE2 with its JIT) and like/ilike patterns: values,
-- nulls, empty matches, groups, Unicode, threads (each thread its own match
-- data), and the errors: a bad pattern at compile time with its offset, a
-- pattern that is not a constant, a group the pattern lacks, invalid UTF-8
-- naming the row. DuckDB's answers for a sample are checked in test_text.lua.
-- Run from the repository root: tally tests/lua/test_regex.lua

local tally = require "tally"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

local N = tally.null
local t = tally.from_columns{ { "s", { "abc 123", "", N, "x-y-z", "Ünïcode 9", "aaa" } } }
local r = t:mutate([[m = regexp_matches(s, '^[a-z]+ [0-9]+$')]], [[d = regexp_matches(s, '\d')]],
                   [[e = regexp_extract(s, '(\w+) (\d+)', 2)]], [[w = regexp_extract(s, '\p{L}+')]],
                   [[x = regexp_extract(s, 'q')]], [[r = regexp_replace(s, '-', '+')]],
                   [[g = regexp_replace(s, '(\w+) (\d+)', '\2:\1')]], [[z = regexp_replace(s, 'a*', '.')]],
                   [[b = regexp_replace(s, 'a', '\\')]], [[u = regexp_matches(s, '(?i)ünï')]])
assert(r[1].m == true and r[2].m == false and r[3].m == nil and r[5].m == false)
assert(r[1].d == true and r[4].d == false and r[5].d == true)
assert(r[1].e == "123" and r[2].e == "" and r[3].e == nil)
assert(r[5].w == "Ünïcode")
assert(r[1].x == "" and r[3].x == nil)
assert(r[4].r == "x+y+z" and r[1].r == "abc 123")
assert(r[1].g == "123:abc")
assert(r[6].z == "." and r[2].z == "." and r[4].z == ".x.-.y.-.z.")   -- as DuckDB (RE2)
assert(t:mutate("v = regexp_replace('baaac', 'a*', '.')")[1].v == ".b.c.")
assert(r[6].b == "\\\\\\")
assert(r[5].u == true)

-- a null pattern is null everywhere; the result types are checked before any row
local nr = t:mutate("v = regexp_matches(s, null)", "w = regexp_replace(s, null, 'x')")
for i = 1, #nr do assert(nr[i].v == nil and nr[i].w == nil) end

-- like and ilike: % and _, escapes, case folding, code points
local l = tally.from_columns{ { "s", { "100%", "a_b", "Straße", "É", "", "ab" } } }
local lr = l:mutate("a = s like '%!%' escape '!'", "b = s like 'a!_b' escape '!'", "c = s like 'a_b'",
                    "d = s ilike 'STRASSE'", "e = s ilike 'é'", "f = s like '_'", "g = s like ''",
                    "h = s not like '%b'", "k = s like '%%%'", "m = like(s, 'a%')", "n = ilike(s, 'ST%')")
assert(lr[1].a == true and lr[2].a == false)
assert(lr[2].b == true and lr[6].b == false and lr[2].c == true)
assert(lr[3].d == false and lr[4].e == true)
assert(lr[4].f == true and lr[6].f == false)        -- one code point, two bytes
assert(lr[5].g == true and lr[1].g == false)
assert(lr[6].h == false and lr[1].h == true)
for i = 1, #lr do assert(lr[i].k == true) end
assert(lr[6].m == true and lr[3].n == true)

-- a long text: the work of % stays bounded (no exponential backtracking)
local long = tally.from_columns{ { "s", { string.rep("a", 5000) .. "b" } } }
assert(long:mutate("v = s like '%a%a%a%a%a%a%a%a%c'")[1].v == false)

-- many rows on several threads: each plan copy matches with match data of its own
local words = {}
for i = 1, 50000 do words[i] = (i % 3 == 0) and ("w" .. i) or ("word " .. i) end
local big = tally.from_columns{ { "s", words } }
for _, threads in ipairs{ 1, 4 } do
  tally.threads(threads)
  local b = big:mutate([[v = regexp_extract(s, '(\d+)$', 1)]], [[m = regexp_matches(s, '^[a-z]+ [0-9]+$')]])
  for i = 1, #b, 997 do
    assert(b[i].v == tostring(i) and b[i].m == (i % 3 ~= 0))
  end
  assert(#big:filter([[regexp_matches(s, '^w\d+$')]]) == 16666)
  assert(#big:filter("s like 'word 1%'") == #big:filter([[regexp_matches(s, '^word 1')]]))
end

-- errors
check_error([[mutate: "v = regexp_matches(s, 'a(b')": bad regular expression at offset 3 of the pattern: missing closing parenthesis at column 23]],
            function() return t:mutate("v = regexp_matches(s, 'a(b')") end)
check_error("bad regular expression at offset 0 of the pattern: quantifier does not follow a repeatable item",
            function() return t:filter("regexp_matches(s, '+a')") end)
check_error("the pattern of a regexp function must be a constant text at column 23",
            function() return t:mutate("v = regexp_matches(s, s)") end)
check_error("regexp_extract's group must be a constant from 0 to 1 (the pattern's groups) at column 30",
            function() return t:mutate("v = regexp_extract(s, '(a)', 2)") end)
check_error("regexp_replace needs a text here, found int",
            function() return t:mutate("v = regexp_replace(s, 'a', 1)") end)
check_error("wrong number of arguments to 'regexp_matches' (1 given)",
            function() return t:mutate("v = regexp_matches(s)") end)
check_error("agg: \"v = count_if(regexp_matches(s, '['))\": bad regular expression at offset 1",
            function() return t:agg("v = count_if(regexp_matches(s, '['))") end)
local bad = tally.from_columns{ { "s", { "ok", "ok", "\xc3" } } }
check_error("mutate: invalid UTF-8 in 'regexp_matches' at row 3",
            function() return bad:mutate("v = regexp_matches(s, 'x')") end)
check_error("mutate: invalid UTF-8 in 'regexp_replace' at row 3",
            function() return bad:mutate("v = regexp_replace(s, 'x', 'y')") end)
check_error("filter: invalid UTF-8 in 'ilike' at row 3", function() return bad:filter("s ilike 'x'") end)
print("test_regex: ok")
