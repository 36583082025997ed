-- tally side of text.sh: regexp_matches on the note column and lower on the
-- program column, each as a new column, timed in process (median of REPS);
-- the count of matches and a checksum of the lengths check the work was done.
--   tally tests/bench/text.lua CSV THREADS REPS
local csv, threads, reps = arg[1], tonumber(arg[2] or 2), tonumber(arg[3] or 3)
tally.threads(threads)
local t = tally.read_csv(csv)

local function median(xs)
  table.sort(xs)
  return xs[(#xs + 1) // 2]
end

-- wall seconds and CPU seconds (of every thread), medians
local function time(name, def, check)
  local ts, cs, info = {}, {}, ""
  for i = 1, reps do
    collectgarbage()
    local t0, c0 = tally.clock(), os.clock()
    local r = t:mutate(def)
    ts[i], cs[i] = tally.clock() - t0, os.clock() - c0
    info = check(r)
    r = nil
  end
  print(string.format("@time %s %.4f cpu=%.4f %s", name, median(ts), median(cs), info))
end

time("regexp_matches", [[m = regexp_matches(note, '^[a-z]+ [0-9]+$')]],
     function(r) return "matches=" .. r:agg("n = count_if(m)")[1].n end)
time("lower", "l = lower(program)",
     function(r) return "distinct=" .. #r:distinct("l") end)
