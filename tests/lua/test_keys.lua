-- Expressions as the keys of group_by, sort, top and distinct: each the
-- same as computing the column with mutate first (then dropping it, for
-- sort and top); a string that is exactly a column's name is that column.
-- Run from the repository root: tally tests/lua/test_keys.lua

local tally = require "tally"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error: " .. msg)
  assert(tostring(err):find(msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, tostring(err)))
end

local function same_table(a, b, what)
  assert(a:ncol() == b:ncol() and #a == #b, what .. ": shapes differ")
  local an, bn = a:names(), b:names()
  for j = 1, #an do assert(an[j] == bn[j], what .. ": names differ: " .. an[j] .. " " .. bn[j]) end
  for j = 1, #an do
    local ca, cb = a[an[j]], b[bn[j]]
    for i = 1, #a do
      assert(tostring(ca[i]) == tostring(cb[i]), string.format("%s: row %d of %s", what, i, an[j]))
    end
  end
end

local w = tally.read_csv("tests/data/charts/seattle-weather.csv")

-- group_by: named, and named by its text
same_table(w:group_by("y = year(date)", "weather"):agg("n = count()", "m = mean(wind)"),
           w:mutate("y = year(date)"):group_by("y", "weather"):agg("n = count()", "m = mean(wind)"),
           "group_by y = year(date)")
local g = w:group_by("year(date)"):agg("n = count()")
assert(g:names()[1] == "year(date)", g:names()[1])
same_table(g, w:mutate("k = year(date)"):group_by("k"):agg("n = count()"):rename{ k = "year(date)" },
           "group_by year(date)")

-- sort and top: descending with '-', the key column not kept
local d = w:mutate("spread = temp_max - temp_min")
same_table(w:sort("-(temp_max - temp_min)", "date"),
           d:sort("-spread", "date"):drop("spread"), "sort by an expression")
same_table(w:top(7, "abs(temp_max - 20)", "date"),
           w:mutate("z = abs(temp_max - 20)"):top(7, "z", "date"):drop("z"), "top by an expression")
assert(w:sort("-(temp_max - temp_min)"):ncol() == w:ncol(), "no column added")

-- distinct
same_table(w:distinct("m = month(date)", "weather"),
           w:mutate("m = month(date)"):distinct("m", "weather"), "distinct")

-- a name that is a column stays the column, even when it reads as an expression
local odd = tally.from_columns{ { "a-b", { 3, 1, 2 } }, { "a", { 1, 1, 1 } }, { "b", { 5, 6, 7 } } }
assert(odd:sort("a-b")["a-b"][1] == 1, "the column 'a-b'")
assert(odd:sort("-a-b")["a-b"][1] == 3, "descending by the column 'a-b'")
assert(odd:sort("-(a - b)").b[1] == 5, "the expression a - b, descending")

-- errors name the verb and the place
check_error("group_by: unknown column 'yaer'", w.group_by, w, "yaer")
check_error("sort: \"nope(x)\": unknown function 'nope'", w.sort, w, "-nope(x)")
check_error("group_by: \"year(wind)\": year of float", w.group_by, w, "year(wind)")
check_error("top: \"1 +\"", w.top, w, 3, "1 +")

print("keys: ok")
