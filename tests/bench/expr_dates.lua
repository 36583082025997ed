-- tally side of expr_dates.sh: to_date with a strptime format, date_trunc,
-- and a group by the truncated date, timed in process (median of REPS).
--   tally tests/bench/expr_dates.lua CSV THREADS REPS
local csv, threads, reps = arg[1], tonumber(arg[2] or 2), tonumber(arg[3] or 3)
tally.threads(threads)
local t = tally.read_csv(csv):mutate("d = make_date(year, month, 1)")
t = t:mutate("s = strftime(d, '%b %d %Y')")

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
  print(string.format("@time %s %.4f cpu=%.4f rows=%d %s", name, median(ts), median(cs), #r, check(r)))
end

time("to_date", function() return t:mutate("x = to_date(s, '%b %d %Y')") end,
     function(r) return "max=" .. tostring(r:col("x"):max()) end)
time("date_trunc", function() return t:mutate("m = date_trunc('month', d)") end,
     function(r) return "min=" .. tostring(r:col("m"):min()) end)
time("group_trunc", function()
  return t:mutate("m = date_trunc('month', d)"):group_by("m"):agg("n = count()", "c = sum(cost)")
end, function(r) return "groups=" .. #r end)
