-- lua_agg.lua -- a Lua aggregate against a hand-written Lua loop over the same values.
--
--   tally tests/bench/lua_agg.lua [TABLE.tally | CSV] [REPS]
--
-- The geometric mean of `cost` three ways: tally.aggregate with a number state (step
-- returns the new state), the same with step_batch (each group's values of a batch in
-- a Lua array), and a plain Lua loop over a Lua array holding the same values (the
-- array is built first, untimed). The aggregates run on one thread and on all of
-- tally.threads(): with a merge, their ranges of rows run in Lua states of the worker
-- threads. Reports rows per second and each aggregate's time over the loop's, medians
-- of REPS runs (default 5). Without an argument: 10 M generated rows.
local path, reps = arg[1], tonumber(arg[2]) or 5

local t
if path and path:match("%.tally$") then
  t = tally.load(path):select("cost")
elseif path then
  t = tally.read_csv(path, { columns = { "cost" } })
else
  local n, v, seed = 10000000, {}, 42
  for i = 1, n do
    seed = (seed * 1103515245 + 12345) % 2147483648
    v[i] = 1 + seed % 100000 / 10
  end
  t = tally.from_columns{ { "cost", v } }
end
t = t:filter("cost > 0")   -- the loop gets the values the aggregate's step gets
local n = #t

local geo = tally.aggregate{
  name = "geo_number", type = "float", init = 0,
  step = function(s, x) return s + math.log(x) end,
  merge = function(a, b) return a + b end,
}
local log = math.log
local geo_batch = tally.aggregate{
  name = "geo_batch", type = "float", init = 0,
  step_batch = function(s, v, k)
    for i = 1, k do s = s + log(v[i]) end
    return s
  end,
  merge = function(a, b) return a + b end,
}

local values = t.cost:totable()   -- the plain Lua array of the loop
local function loop()
  local s = 0
  for i = 1, #values do s = s + log(values[i]) end
  return s
end

local function median(xs)
  table.sort(xs)
  return xs[(#xs + 1) // 2]
end

local function time(fn)
  local ts = {}
  for r = 1, reps do
    collectgarbage()
    local t0 = tally.clock()
    fn()
    ts[r] = tally.clock() - t0
  end
  return median(ts)
end

local threads = tally.threads()
local tl = time(loop)
local a, b = t:agg("g = geo_number(cost)").g:totable()[1], loop()
assert(math.abs(a - b) <= 1e-9 * math.abs(b), "the aggregate and the loop disagree")
print(string.format("rows %d, medians of %d", n, reps))
print(string.format("Lua loop over an array              %.3f s  %6.1f M rows/s", tl, n / tl / 1e6))
for _, th in ipairs(threads > 1 and { 1, threads } or { 1 }) do
  tally.threads(th)
  local tn = time(function() return t:agg("g = geo_number(cost)") end)
  local tb = time(function() return t:agg("g = geo_batch(cost)") end)
  print(string.format("aggregate, number state, %d thread%s %.3f s  %6.1f M rows/s  %.2fx the loop",
                      th, th > 1 and "s" or " ", tn, n / tn / 1e6, tn / tl))
  print(string.format("aggregate, step_batch,   %d thread%s %.3f s  %6.1f M rows/s  %.2fx the loop",
                      th, th > 1 and "s" or " ", tb, n / tb / 1e6, tb / tl))
end
tally.threads(threads)
