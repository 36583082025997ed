-- lua_func.lua -- a function written in Lua (tally.func) in mutate and filter, against
-- a hand-written Lua loop over the same values.
--
--   tally tests/bench/lua_func.lua [TABLE.tally | CSV] [REPS]
--
-- mutate("y = lg(cost)") with lg = math.log written in Lua, and filter("big(cost)")
-- with a Lua predicate, on one thread and on all of tally.threads() (the calls then
-- run in Lua states of the workers); the loop fills a Lua array with the logs of a
-- Lua array of the same values (built first, untimed). Medians of REPS runs
-- (default 5). Without an argument: 10 M generated rows.
local path, reps = arg[1], tonumber(arg[2]) or 5

local common = dofile((arg[0]:match("^(.*)/") or ".") .. "/lua_common.lua")
local t = common.costs(path)
local n = #t

local log = math.log
tally.func{ name = "lg", type = "float", fn = function(x) return log(x) end }
tally.func{ name = "big", type = "bool", fn = function(x) return x > 5000 end }

local values = t.cost:totable()
local function loop()
  local out = {}
  for i = 1, #values do out[i] = log(values[i]) end
  return out
end

local threads = tally.threads()
local tl = common.time(loop, reps)
print(string.format("rows %d, medians of %d", n, reps))
print(string.format("Lua loop into an array            %.3f s  %6.1f M rows/s", tl, n / tl / 1e6))
for _, th in ipairs(common.thread_counts()) do
  tally.threads(th)
  local tm = common.time(function() return t:mutate("y = lg(cost)") end, reps)
  local tf = common.time(function() return t:filter("big(cost)") end, reps)
  print(common.line("mutate", th, tm, n, tl))
  print(common.line("filter", th, tf, n, tl))
end
tally.threads(threads)
