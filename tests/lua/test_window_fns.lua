-- The window functions of mutate past lag, lead, cumsum and rank: each
-- compared with a row-at-a-time reference written here in Lua, on random
-- tables with partitions, ties, nulls and NaN, and on several thread
-- counts; then their errors.
-- Run from the repository root: tally tests/lua/test_window_fns.lua

local tally = require "tally"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error: " .. msg)
  assert(tostring(err):find(msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, tostring(err)))
end

local null = tally.null
local function isnull(v) return v == nil or v == null end
local function isnan(v) return type(v) == "number" and v ~= v end

local function same(a, b, what)
  if isnull(a) or isnull(b) then
    assert(isnull(a) and isnull(b), what .. ": " .. tostring(a) .. " against " .. tostring(b))
  elseif isnan(a) or isnan(b) then
    assert(isnan(a) and isnan(b), what .. ": " .. tostring(a) .. " against " .. tostring(b))
  elseif math.type(a) == "float" or math.type(b) == "float" then
    assert(math.abs(a - b) <= 1e-9 * math.max(1, math.abs(a), math.abs(b)),
           what .. ": " .. tostring(a) .. " against " .. tostring(b))
  else
    assert(a == b, what .. ": " .. tostring(a) .. " against " .. tostring(b))
  end
end

-- NaN after every number, as the design orders floats
local function less(a, b) if b ~= b then return a == a end return a < b end

local seed = 12345
local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n end

local function random_table(n)
  local g, o, x, f = {}, {}, {}, {}
  for i = 1, n do
    g[i] = ({ "a", "b", "c" })[rnd(3) + 1]
    o[i] = rnd(5)
    x[i] = (i > 1 and rnd(6) == 0) and null or rnd(20) - 5   -- typed by a first value
    local r = rnd(10)
    f[i] = (i > 1 and r == 0) and null or r == 1 and 0 / 0 or (rnd(1000) - 300) / 8
  end
  return tally.from_columns{ { "g", g }, { "o", o }, { "x", x }, { "f", f } }, g, o, x, f
end

-- The rows of each partition, in table order or sorted by o (stable).
local function partitions(g, o, ordered)
  local parts, index = {}, {}
  for i = 1, #g do
    if not index[g[i]] then index[g[i]] = #parts + 1; parts[#parts + 1] = {} end
    table.insert(parts[index[g[i]]], i)
  end
  if ordered then
    for _, p in ipairs(parts) do
      table.sort(p, function(a, b) if o[a] ~= o[b] then return o[a] < o[b] end return a < b end)
    end
  end
  return parts
end

local function reference_ranks(g, o, k)
  local dr, pr, cd, nt = {}, {}, {}, {}
  for _, p in ipairs(partitions(g, o, true)) do
    local m, dense = #p, 0
    for pos, row in ipairs(p) do
      if pos == 1 or o[p[pos - 1]] ~= o[row] then dense = dense + 1 end
      local rank = pos
      while rank > 1 and o[p[rank - 1]] == o[row] do rank = rank - 1 end
      local last = pos
      while last < m and o[p[last + 1]] == o[row] do last = last + 1 end
      dr[row], pr[row] = dense, m > 1 and (rank - 1) / (m - 1) or 0.0
      cd[row] = last / m
      local q, r, i = m // k, m % k, pos - 1
      nt[row] = q == 0 and i + 1 or (i < r * (q + 1) and i // (q + 1) + 1 or (i - r) // q + 1)
    end
  end
  return dr, pr, cd, nt
end

local function reference_running(g, v, kind)
  local out = {}
  for _, p in ipairs(partitions(g, nil, false)) do
    local acc, cnt = nil, 0
    for _, row in ipairs(p) do
      local x = v[row]
      if kind == "cumcount" then
        cnt = cnt + 1; out[row] = cnt
      elseif not isnull(x) then
        if acc == nil then acc = x
        elseif kind == "cummax" then acc = less(acc, x) and x or acc
        elseif kind == "cummin" then acc = less(x, acc) and x or acc
        else acc = acc * x end
        out[row] = acc
      else
        out[row] = acc == nil and null or acc
      end
    end
  end
  return out
end

local function reference_rolling(g, v, kind, n)
  local out = {}
  for _, p in ipairs(partitions(g, nil, false)) do
    for pos, row in ipairs(p) do
      local vals = {}
      for q = math.max(1, pos - n + 1), pos do
        if not isnull(v[p[q]]) then vals[#vals + 1] = v[p[q]] end
      end
      if #vals == 0 or (kind == "rolling_std" and #vals < 2) then
        out[row] = null
      elseif kind == "rolling_sum" or kind == "rolling_mean" then
        local s = 0
        for _, a in ipairs(vals) do s = s + a end
        out[row] = kind == "rolling_sum" and s or s / #vals
      elseif kind == "rolling_std" then
        local s = 0
        for _, a in ipairs(vals) do s = s + a end
        local mean, m2 = s / #vals, 0
        for _, a in ipairs(vals) do m2 = m2 + (a - mean) ^ 2 end
        out[row] = math.sqrt(m2 / (#vals - 1))
      else
        local best = vals[1]
        for _, a in ipairs(vals) do
          if kind == "rolling_max" then if less(best, a) then best = a end
          elseif less(a, best) then best = a end
        end
        out[row] = best
      end
    end
  end
  return out
end

local function column(t, name)
  local c = t[name]
  local out = {}
  for i = 1, #c do out[i] = c[i] end
  return out
end

for _, threads in ipairs{ 1, 3 } do
  tally.threads(threads)
  for round = 1, 12 do
    local n = ({ 1, 2, 7, 40, 300 })[round % 5 + 1]
    local t, g, o, x, f = random_table(n)
    local k = rnd(4) + 1
    local r = t:mutate({ "dr = dense_rank()", "pr = percent_rank()", "cd = cume_dist()",
                         "nt = ntile(" .. k .. ")", "fv = first_value(x)", "lv = last_value(x)" },
                       { partition_by = { "g" }, order_by = { "o" } })
    local dr, pr, cd, nt = reference_ranks(g, o, k)
    for i = 1, n do
      local what = string.format("round %d row %d", round, i)
      same(r.dr[i], dr[i], what .. " dense_rank")
      same(r.pr[i], pr[i], what .. " percent_rank")
      same(r.cd[i], cd[i], what .. " cume_dist")
      same(r.nt[i], nt[i], what .. " ntile")
    end
    -- first_value: x at the partition's first row in o order; last_value: at
    -- the last of the row's ties
    for _, p in ipairs(partitions(g, o, true)) do
      for pos, row in ipairs(p) do
        local last = pos
        while last < #p and o[p[last + 1]] == o[row] do last = last + 1 end
        same(r.fv[row], x[p[1]], "first_value")
        same(r.lv[row], x[p[last]], "last_value")
      end
    end
    local w = rnd(5) + 1
    local defs = {}
    for _, kind in ipairs{ "cummax", "cummin", "cumcount" } do
      defs[#defs + 1] = string.format("%s_x = %s(x)", kind, kind)
      defs[#defs + 1] = string.format("%s_f = %s(f)", kind, kind)
    end
    for _, kind in ipairs{ "rolling_sum", "rolling_mean", "rolling_min", "rolling_max",
                           "rolling_std" } do
      defs[#defs + 1] = string.format("%s_x = %s(x, %d)", kind, kind, w)
      defs[#defs + 1] = string.format("%s_f = %s(f, %d)", kind, kind, w)
    end
    defs[#defs + 1] = "cumprod_f = cumprod(f)"
    r = t:mutate(defs, { partition_by = { "g" } })
    for _, kind in ipairs{ "cummax", "cummin", "rolling_sum", "rolling_mean", "rolling_min",
                           "rolling_max", "rolling_std" } do
      for _, v in ipairs{ "x", "f" } do
        local want = kind:find("rolling") and reference_rolling(g, v == "x" and x or f, kind, w)
                     or reference_running(g, v == "x" and x or f, kind)
        local got = column(r, kind .. "_" .. v)
        for i = 1, n do same(got[i], want[i], string.format("%s_%s row %d", kind, v, i)) end
      end
    end
    local cc = column(r, "cumcount_x")
    local seen = {}
    for i = 1, n do
      if not isnull(x[i]) then seen[g[i]] = (seen[g[i]] or 0) + 1 end
      same(cc[i], seen[g[i]] or 0, "cumcount(x)")
    end
    local want = reference_running(g, f, "cumprod")
    for i = 1, n do same(r.cumprod_f[i], want[i], "cumprod row " .. i) end
  end
end
tally.threads(0)

-- errors name the call and what is wrong
do
  local t = random_table(10)
  check_error("dense_rank() needs the order_by option", t.mutate, t, "r = dense_rank()")
  check_error("ntile's number of tiles must be an integer literal >= 1",
              t.mutate, t, "r = ntile(0)")
  check_error("rolling_sum's window must be an integer literal >= 1",
              t.mutate, t, "r = rolling_sum(x, o)")
  check_error("rolling_mean of string values", t.mutate, t, "r = rolling_mean(g, 3)")
  check_error("wrong number of arguments to 'rolling_max'", t.mutate, t, "r = rolling_max(x)")
  local big = tally.from_columns{ { "v", { 2 ^ 62 | 0, 4 } } }
  check_error("integer overflow in cumprod at row 2", big.mutate, big, "p = cumprod(v)")
  local big2 = tally.from_columns{ { "v", { 2 ^ 62 | 0, 2 ^ 62 | 0 } } }
  check_error("integer overflow in rolling_sum at row 2", big2.mutate, big2,
              "p = rolling_sum(v, 2)")
end

print("window functions: ok")
