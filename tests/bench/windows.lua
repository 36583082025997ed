-- tally side of windows.sh: rolling_mean(cost, 30) per program ordered by id,
-- and cost / sum(cost) per program, timed in process (median of REPS). The
-- check sums of the new column let the two engines' answers be compared.
--   tally tests/bench/windows.lua CSV THREADS REPS
local csv, threads, reps = arg[1], tonumber(arg[2] or 2), tonumber(arg[3] or 3)
tally.threads(threads)
local t = tally.read_csv(csv)

local function median(xs)
  table.sort(xs)
  return xs[(#xs + 1) // 2]
end

-- wall seconds and CPU seconds (of every thread), medians
local function time(name, f, check)
  local ts, cs, r = {}, {}, nil
  for i = 1, reps do
    r = nil
    collectgarbage()
    local t0, c0 = tally.clock(), os.clock()
    r = f()
    ts[i], cs[i] = tally.clock() - t0, os.clock() - c0
  end
  print(string.format("@time %s %.4f cpu=%.4f rows=%d %s", name, median(ts), median(cs), #r,
                      check(r)))
end

local function total(col)
  return function(r)
    local a = r:agg("s = sum(" .. col .. ")", "n = count(" .. col .. ")")
    return string.format("sum=%.6e nonnull=%d", a[1].s, a[1].n)
  end
end

time("rolling_mean", function()
  return t:mutate("r = rolling_mean(cost, 30)", { partition_by = "program", order_by = "id" })
end, total("r"))
time("share", function()
  return t:mutate("share = cost / sum(cost)", { partition_by = "program" })
end, total("share"))
