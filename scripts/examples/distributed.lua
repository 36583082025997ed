-- distributed.lua -- the Q3 and Q5 benchmark queries over CSV files shared
-- out among the ranks of an MPI job (tally built with -DTALLY_MPI=ON).
--
--   mpirun -n 4 tally scripts/examples/distributed.lua part1.csv part2.csv ...
--   mpirun -n 8 --hostfile hosts tally scripts/examples/distributed.lua /shared/t*.csv
--
-- Every rank runs this same script. tally.mpi.read_csv gives each rank its
-- share of the files' records; the aggregations make partial states on each
-- share and merge them, so every rank ends with the whole result. Rank 0
-- prints it.
local mpi = tally.mpi
local files = { ... }
if #files == 0 then
  error("usage: mpirun -n N tally scripts/examples/distributed.lua FILE.csv...")
end

-- The geometric mean as a Lua aggregate: `merge` lets the ranks' states be
-- combined (without it, a distributed aggregation refuses the aggregate).
local geomean = tally.aggregate{
  name = "geomean", type = "float",
  init = function() return { s = 0, n = 0 } end,
  step = function(st, x) st.s = st.s + math.log(x); st.n = st.n + 1 end,
  merge = function(a, b) a.s = a.s + b.s; a.n = a.n + b.n; return a end,
  final = function(st) if st.n > 0 then return math.exp(st.s / st.n) end end,
}

-- Runs fn on every rank; rank 0 tells the time and the bytes it exchanged.
local function timed(label, fn)
  mpi.barrier()
  local t0, s0 = tally.clock(), mpi.stats()
  local r = fn()
  mpi.barrier()
  local s1 = mpi.stats()
  if mpi.rank == 0 then
    io.stderr:write(string.format("%-5s %.3f s, %d bytes sent, %d received\n", label,
                                  tally.clock() - t0, s1.bytes_sent - s0.bytes_sent,
                                  s1.bytes_received - s0.bytes_received))
  end
  return r
end

local t = timed("read", function()
  return mpi.read_csv(files, { columns = { "program", "participants", "cost" } })
end)

local q3 = timed("q3", function()
  return t:group_by("program")
          :agg("n = count()", "sum_p = sum(participants)", "avg_cost = mean(cost)")
          :sort("program")
end)

local q5 = timed("q5", function()
  return t:group_by("program")
          :agg("geomean_cost = exp(mean(ln(cost)))", "p90 = quantile(participants, 0.9)")
          :sort("program")
end)

local q5lua = timed("q5lua", function()
  return t:group_by("program")
          :agg(geomean("cost"):as("geomean_cost"), "p90 = quantile(participants, 0.9)")
          :sort("program")
end)

local n = #t   -- collective, like every operation on a distributed table
if mpi.rank == 0 then
  print(string.format("%d rows over %d ranks", n, mpi.size))
  print(q3)
  print(q5)
  print(q5lua)
  local st = mpi.stats()
  io.stderr:write(string.format("rank 0 exchanged %d times: %d bytes sent, %d received\n",
                                st.exchanges, st.bytes_sent, st.bytes_received))
end
