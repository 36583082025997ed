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

local common = dofile((arg[0]:match("^(.*)/") or ".") .. "/lua_common.lua")
local t = common.costs(path)
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

local threads = tally.threads()
local tl = common.time(loop, reps)
local a, b = t:agg("g = geo_number(cost)").g:totable()[1], loop()
assert(math.abs(a - b) <= 1e-9 * math.abs(b), "the aggregate and the loop disagree")
print(string.format("rows %d, medians of %d", n, reps))
print(string.format("Lua loop over an array            %.3f s  %6.1f M rows/s", tl, n / tl / 1e6))
for _, th in ipairs(common.thread_counts()) do
  tally.threads(th)
  local tn = common.time(function() return t:agg("g = geo_number(cost)") end, reps)
  local tb = common.time(function() return t:agg("g = geo_batch(cost)") end, reps)
  print(common.line("aggregate, number state", th, tn, n, tl))
  print(common.line("aggregate, step_batch", th, tb, n, tl))
end
tally.threads(threads)
