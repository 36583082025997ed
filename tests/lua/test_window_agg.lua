-- Aggregates inside mutate: over the whole partition without order_by (the
-- same values as the group-by of the partition keys, on every row of the
-- group), and running through each row's ties with order_by (SQL's RANGE
-- frame: the running sum of 1, 1, 2 is 2, 2, 4), on random tables and
-- several thread counts; then the errors.
-- Run from the repository root: tally tests/lua/test_window_agg.lua

local tally = require "tally"
local null = tally.null

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error: " .. msg)
  assert(tostring(err):find(msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, tostring(err)))
end

local function isnull(v) return v == nil or v == null end
local function same(a, b, what)
  if isnull(a) or isnull(b) then
    assert(isnull(a) and isnull(b), what .. ": " .. tostring(a) .. " against " .. tostring(b))
  elseif math.type(a) == "float" or math.type(b) == "float" then
    assert(math.abs(a - b) <= 1e-9 * math.max(1, math.abs(a), math.abs(b)),
           what .. ": " .. tostring(a) .. " against " .. tostring(b))
  else
    assert(a == b, what .. ": " .. tostring(a) .. " against " .. tostring(b))
  end
end

local seed = 777
local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n end

local function random_table(n)
  local g, o, x, s = {}, {}, {}, {}
  for i = 1, n do
    g[i] = ({ "a", "b", "c", "d" })[rnd(4) + 1]
    o[i] = rnd(6)
    x[i] = (i > 1 and rnd(5) == 0) and null or rnd(50) - 10
    s[i] = ({ "x", "y", "z" })[rnd(3) + 1]
  end
  return tally.from_columns{ { "g", g }, { "o", o }, { "x", x }, { "s", s } }, g, o, x
end

for _, threads in ipairs{ 1, 3 } do
  tally.threads(threads)
  for round = 1, 10 do
    local n = ({ 1, 3, 20, 200, 1000 })[round % 5 + 1]
    local t, g, o, x = random_table(n)
    -- whole partitions: the group-by's figures on each row
    local defs = { "n = count()", "nx = count(x)", "sx = sum(x)", "mx = mean(x)", "lo = min(x)",
                   "hi = max(x)", "md = median(x)", "q = quantile(x, 0.25)",
                   "sd = stddev(x)", "cd = count_distinct(s)", "mo = mode(s)",
                   "sa = string_agg(s, '-')", "share = x / sum(x)" }
    local m = t:mutate(defs, { partition_by = "g" })
    local per = t:group_by("g"):agg(table.unpack(defs, 1, #defs - 1))
    local row_of = {}
    for i = 1, #per do row_of[per.g[i]] = i end
    for i = 1, n do
      local k = row_of[g[i]]
      for _, name in ipairs{ "n", "nx", "sx", "mx", "lo", "hi", "md", "q", "sd", "cd", "mo", "sa" } do
        same(m[name][i], per[name][k], string.format("round %d row %d %s", round, i, name))
      end
      local sx = per.sx[k]
      same(m.share[i], (isnull(x[i]) or isnull(sx) or sx == 0) and null or x[i] / sx, "share")
    end
    -- no partition: the whole table
    local all = t:mutate("total = sum(x)", "nrows = count()")
    local tot = t:agg("total = sum(x)").total[1]
    for i = 1, n do same(all.total[i], tot, "total"); same(all.nrows[i], n, "rows") end
    -- running, through each row's ties in o order
    local r = t:mutate({ "rs = sum(x)", "rc = count(x)", "rn = count()", "rm = mean(x)",
                         "rlo = min(x)", "rhi = max(x)" },
                       { partition_by = "g", order_by = "o" })
    for i = 1, n do
      local s, c, cn, lo, hi = 0, 0, 0, nil, nil
      for j = 1, n do
        if g[j] == g[i] and o[j] <= o[i] then
          cn = cn + 1
          if not isnull(x[j]) then
            s, c = s + x[j], c + 1
            lo = (lo == nil or x[j] < lo) and x[j] or lo
            hi = (hi == nil or x[j] > hi) and x[j] or hi
          end
        end
      end
      local what = string.format("round %d row %d running", round, i)
      same(r.rs[i], c > 0 and s or null, what .. " sum")
      same(r.rc[i], c, what .. " count(x)")
      same(r.rn[i], cn, what .. " count()")
      same(r.rm[i], c > 0 and s / c or null, what .. " mean")
      same(r.rlo[i], lo or null, what .. " min")
      same(r.rhi[i], hi or null, what .. " max")
    end
  end
end
tally.threads(0)

-- whole partitions of two keys, nulls among them, on a table large enough
-- for the parallel grouping: each row gets its partition's figures, which a
-- plain loop here computes
do
  local n, a, b, x = 300000, {}, {}, {}
  for i = 1, n do
    a[i] = (i % 97 == 0) and null or ({ "p", "q", "r" })[i % 3 + 1]
    b[i] = (i % 89 == 0) and null or i % 5
    x[i] = (i % 7 == 0) and null or (i % 1000) / 4
  end
  local t = tally.from_columns{ { "a", a }, { "b", b }, { "x", x } }
  local key = function(i) return tostring(a[i]) .. "/" .. tostring(b[i]) end
  local sum, cnt = {}, {}
  for i = 1, n do
    local k = key(i)
    cnt[k] = (cnt[k] or 0) + 1
    if not isnull(x[i]) then sum[k] = (sum[k] or 0) + x[i] end
  end
  for _, threads in ipairs{ 1, 2 } do
    tally.threads(threads)
    local m = t:mutate({ "s = sum(x)", "c = count()" }, { partition_by = { "a", "b" } })
    for i = 1, n, 7 do
      same(m.s[i], sum[key(i)] or null, "sum of row " .. i)
      same(m.c[i], cnt[key(i)], "count of row " .. i)
    end
  end
  tally.threads(0)
end

do
  local t = random_table(10)
  check_error("median with order_by: a running aggregate is count, sum, mean, min or max",
              t.mutate, t, "m = median(x)", { order_by = "o" })
  check_error("wrong number of arguments to 'sum'", t.mutate, t, "m = sum(x, x)")
  check_error("sum of string values", t.mutate, t, "m = sum(s)", { order_by = "o" })
  check_error("aggregate 'sum' inside another aggregate", t.mutate, t, "m = sum(sum(x))")
end

print("window aggregates: ok")
