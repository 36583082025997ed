-- NaN is a float greater than every number (as DuckDB): max takes it, min
-- passes it by, median and quantiles order it last, it sorts last, it
-- groups as one key, sum and mean with it are NaN, and it equals itself in
-- comparisons. Run from the repository root: tally tests/lua/test_nan.lua

local tally = require "tally"

local nan = 0 / 0
local function isnan(x) return x ~= x end

local t = tally.from_columns{ { "g", { 1, 1, 1, 2, 2, 2, 3 } },
                              { "x", { 1.0, nan, 3.0, nan, nan, tally.null, 5.0 } } }
for _, th in ipairs{ 1, 2 } do
  tally.threads(th)
  local a = t:group_by("g"):agg("mx = max(x)", "mn = min(x)", "s = sum(x)", "m = mean(x)",
                                "md = median(x)", "q0 = quantile(x, 0)", "q1 = quantile(x, 1)",
                                "n = count_distinct(x)")
  assert(isnan(a[1].mx) and a[1].mn == 1.0 and isnan(a[1].s) and isnan(a[1].m))
  assert(a[1].md == 3.0 and a[1].q0 == 1.0 and isnan(a[1].q1) and a[1].n == 3)
  assert(isnan(a[2].mx) and isnan(a[2].mn) and isnan(a[2].md) and a[2].n == 1)
  assert(a[3].mx == 5.0 and a[3].md == 5.0)
  local w = t:agg("mx = max(x)", "mn = min(x)", "md = median(x)")
  assert(isnan(w[1].mx) and w[1].mn == 1.0 and isnan(w[1].md))
end
local c = t:col("x")
assert(isnan(c:max()) and c:min() == 1.0)

-- comparisons: NaN equals NaN and is above every number
local m = t:mutate("gt = x > 1e308", "eq = x == x", "ne = x ~= x", "lt = x < 2")
assert(m[2].gt == true and m[2].eq == true and m[2].ne == false and m[2].lt == false)
assert(m[1].gt == false and m[1].ne == false and m[1].lt == true and m[6].eq == nil)
assert(#t:filter("x == x and x > 1e308") == 3 and #t:filter("x > 4") == 4)

-- sorting and grouping
local s = t:sort("x")
assert(s[1].x == 1.0 and s[3].x == 5.0 and isnan(s[4].x) and isnan(s[6].x) and s[7].x == nil)
local k = t:group_by("x"):agg("n = count()")
local nans = 0
for i = 1, #k do if k[i].x ~= nil and isnan(k[i].x) then nans = nans + 1; assert(k[i].n == 3) end end
assert(nans == 1)
print("test_nan: ok")
