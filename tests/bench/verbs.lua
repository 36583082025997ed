-- tally side of verbs.sh: t:sort("-cost") and a join with a 200-row country
-- table, timed in process (median of REPS).
--   tally tests/bench/verbs.lua CSV THREADS REPS
local csv, threads, reps = arg[1], tonumber(arg[2] or 2), tonumber(arg[3] or 3)
tally.threads(threads)
local t = tally.read_csv(csv)
local c = t:distinct("country"):mutate("code = len(country)")

local function median(xs)
  table.sort(xs)
  return xs[(#xs + 1) // 2]
end

local function time(name, f)
  local ts, n = {}, 0
  for i = 1, reps do
    collectgarbage()
    local t0 = tally.clock()
    local r = f()
    ts[i] = tally.clock() - t0
    n = #r
    r = nil
  end
  print(string.format("@time %s %.4f rows=%d", name, median(ts), n))
end

time("sort", function() return t:sort("-cost") end)
time("join", function() return t:join(c, { on = "country" }) end)
