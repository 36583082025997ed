-- tally side of parquet_write.sh: t:write_parquet (zstd, the defaults) of the
-- benchmark table, timed in process (median of REPS), and the file's size.
--   tally tests/bench/parquet_write.lua CSV THREADS REPS OUT
local csv, threads, reps, out = arg[1], tonumber(arg[2] or 2), tonumber(arg[3] or 3), arg[4]
tally.threads(threads)
local t = tally.read_csv(csv)
local ts = {}
for i = 1, reps do
  collectgarbage()
  local t0 = tally.clock()
  t:write_parquet(out)
  ts[i] = tally.clock() - t0
end
table.sort(ts)
local f = assert(io.open(out, "rb"))
local size = f:seek("end")
f:close()
assert(#tally.read_parquet(out) == #t)
print(string.format("@time write_parquet %.4f rows=%d bytes=%d", ts[(#ts + 1) // 2], #t, size))
