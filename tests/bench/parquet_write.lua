-- tally side of parquet_write.sh: t:write_parquet (zstd, the defaults) of the
-- benchmark table, timed in process (median of REPS: wall-clock and CPU seconds of
-- all threads), and the file's size.
--   tally tests/bench/parquet_write.lua CSV THREADS REPS OUT
local csv, threads, reps, out = arg[1], tonumber(arg[2] or 2), tonumber(arg[3] or 3), arg[4]
tally.threads(threads)
local t = tally.read_csv(csv)
local ts, cpu = {}, {}
for i = 1, reps do
  collectgarbage()
  local t0, c0 = tally.clock(), os.clock()
  t:write_parquet(out)
  ts[i], cpu[i] = tally.clock() - t0, os.clock() - c0
end
table.sort(ts)
table.sort(cpu)
local f = assert(io.open(out, "rb"))
local size = f:seek("end")
f:close()
assert(#tally.read_parquet(out) == #t)
print(string.format("@time write_parquet %.4f cpu=%.4f rows=%d bytes=%d", ts[(#ts + 1) // 2],
                    cpu[(#cpu + 1) // 2], #t, size))
