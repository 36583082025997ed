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
t = t:filter("cost > 0")
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
print(string.format("rows %d, medians of %d", n, reps))
print(string.format("Lua loop into an array    %.3f s  %6.1f M rows/s", tl, n / tl / 1e6))
for _, th in ipairs(threads > 1 and { 1, threads } or { 1 }) do
  tally.threads(th)
  local tm = time(function() return t:mutate("y = lg(cost)") end)
  local tf = time(function() return t:filter("big(cost)") end)
  print(string.format("mutate, %d thread%s         %.3f s  %6.1f M rows/s  %.2fx the loop",
                      th, th > 1 and "s" or " ", tm, n / tm / 1e6, tm / tl))
  print(string.format("filter, %d thread%s         %.3f s  %6.1f M rows/s  %.2fx the loop",
                      th, th > 1 and "s" or " ", tf, n / tf / 1e6, tf / tl))
end
tally.threads(threads)
