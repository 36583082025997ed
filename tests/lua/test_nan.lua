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

-- NaN in sort, top and window order: the largest value, last ascending and
-- first descending; nulls last either way. The expected orders are DuckDB's
-- (1.x, @duckdb/node-api), from `select list(id order by x [desc], id)` (and
-- `order by x desc, id desc`, `order by g, x desc, id`),
-- `order by x [desc] limit 3` and `row_number() over (order by x desc, id)`,
-- `rank() over (partition by g order by x)` on the same eight rows.
local d = tally.from_columns{ { "id", { 1, 2, 3, 4, 5, 6, 7, 8 } },
                              { "x", { 2.0, nan, tally.null, -1.0, nan, math.huge, -math.huge, 0.0 } },
                              { "g", { "a", "a", "b", "b", "b", "a", "a", "b" } } }
local function ids(t)
  local out = {}
  for i = 1, #t do out[i] = t[i].id end
  return table.concat(out, ",")
end
local function sorted_ids(t)
  local out = {}
  for i = 1, #t do out[i] = t[i].id end
  table.sort(out)
  return table.concat(out, ",")
end
for _, threads in ipairs{ 1, 2, 4 } do
  tally.threads(threads)
  assert(ids(d:sort("x")) == "7,4,8,1,6,2,5,3", ids(d:sort("x")))
  assert(ids(d:sort("-x")) == "2,5,6,1,8,4,7,3", ids(d:sort("-x")))
  assert(ids(d:sort("-x", "-id")) == "5,2,6,1,8,4,7,3")
  assert(ids(d:sort("g", "-x")) == "2,6,1,7,5,8,4,3")
  assert(sorted_ids(d:top(3, "-x")) == "2,5,6" and sorted_ids(d:top(3, "x")) == "4,7,8")
  local w = d:mutate("r = row_number()", { order_by = { "-x", "id" } })
  local wr = d:mutate("rk = rank()", { partition_by = "g", order_by = "x" })
  local r, rk = {}, {}
  for i = 1, #w do r[w[i].id] = w[i].r end
  for i = 1, #wr do rk[wr[i].id] = wr[i].rk end
  assert(table.concat(r, ",") == "4,1,8,6,2,3,7,5", table.concat(r, ","))
  assert(table.concat(rk, ",") == "2,4,4,1,3,3,1,2", table.concat(rk, ","))
end

-- the same rule on tables large enough for the parallel radix sort and the
-- heaps of top, checked against a comparator written here
local big, vals = {}, {}
local seed = 777
local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n end
for i = 1, 200000 do
  local r = rnd(20)
  vals[i] = r == 0 and nan or r == 1 and tally.null or (rnd(100000) - 50000) / 7
  big[i] = i
end
local bt = tally.from_columns{ { "id", big }, { "x", vals } }
local function before(desc)
  return function(a, b)
    local x, y = vals[a], vals[b]
    local nx, ny = x == tally.null, y == tally.null
    if nx or ny then
      if nx ~= ny then return ny end
      return a < b
    end
    local kx, ky = x ~= x, y ~= y
    if kx or ky then
      if kx ~= ky then return (kx and desc) or (ky and not desc) end
      return a < b
    end
    if x ~= y then return desc and x > y or (not desc and x < y) end
    return a < b
  end
end
for _, threads in ipairs{ 1, 2 } do
  tally.threads(threads)
  for _, desc in ipairs{ false, true } do
    local want = {}
    for i = 1, #big do want[i] = i end
    table.sort(want, before(desc))
    local key = desc and "-x" or "x"
    local got = bt:sort(key)
    for i = 1, #want, 997 do assert(got[i].id == want[i], key .. " row " .. i) end
    local tp = bt:top(1000, key)
    for i = 1, 1000 do assert(tp[i].id == want[i], "top " .. key .. " row " .. i) end
  end
end
tally.threads(2)
print("test_nan: ok")
