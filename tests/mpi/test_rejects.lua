-- test_rejects.lua -- run by ctest under `mpirun -n 1`, `-n 2` and `-n 3`:
-- tally.mpi.read_csv with on_error = "skip" skips the records one read
-- skips, and t:rejects() gathers them on every rank with the lines and
-- record numbers one read gives; the progress option is read.
local mpi = tally.mpi
local rank, size = mpi.rank, mpi.size
local dir = assert(os.getenv("TALLY_MPI_DIR"), "TALLY_MPI_DIR is not set")

local function fail(fmt, ...)
  error(string.format("[rank %d of %d] " .. fmt, rank, size, ...), 2)
end

local function check_same(got, want, what)
  if got:ncol() ~= want:ncol() or #got ~= #want then
    fail("%s: %d x %d, want %d x %d", what, #got, got:ncol(), #want, want:ncol())
  end
  for _, name in ipairs(want:names()) do
    local gv, wv = got:col(name):totable(), want:col(name):totable()
    for i = 1, #want do
      if gv[i] ~= wv[i] then
        fail("%s: column '%s' row %d is %s, want %s", what, name, i, tostring(gv[i]), tostring(wv[i]))
      end
    end
  end
end

-- Two files of 3,000 records, a bad one every 250 (a field missing, a
-- field too many, a number in the wrong place), some quoted over lines.
local paths = { dir .. "/skips1.csv", dir .. "/skips2.csv" }
if rank == 0 then
  for k, path in ipairs(paths) do
    local f = assert(io.open(path, "w"))
    f:write("id,name,x\n")
    for i = 1, 3000 do
      if i % 250 == 0 then
        f:write(i % 500 == 0 and string.format("%d,short\n", i)
                or string.format("%d,\"a\nb\",%d,extra\n", i, i))
      elseif i % 7 == 0 then
        f:write(string.format("%d,\"quoted,\nname %d\",%d.5\n", i, k, i))
      else
        f:write(string.format("%d,n%d,%d\n", i, i % 13, i))
      end
    end
    f:close()
  end
end
mpi.barrier()

for _, which in ipairs({ { paths[1] }, paths }) do
  local want_rows, want_rej = {}, {}
  for k, path in ipairs(which) do
    local t = tally.read_csv(path, { on_error = "skip", progress = false })
    want_rows[k], want_rej[k] = t, t:rejects()
  end
  local want = #which == 1 and want_rows[1] or want_rows[1]:concat(want_rows[2])
  local wrej = #which == 1 and want_rej[1] or want_rej[1]:concat(want_rej[2])
  local d = mpi.read_csv(#which == 1 and which[1] or which, { on_error = "skip", progress = false })
  assert(#d == #want, string.format("%d rows, want %d", #d, #want))
  check_same(d:gather(), want, #which .. " file(s): rows")
  local rej = d:rejects()
  assert(#rej == 12 * #which, "rejects: " .. #rej)
  check_same(rej, wrej, #which .. " file(s): rejects")
  assert(d:filter("x > 0"):rejects() == nil, "a filtered table has no rejects")
end

-- The options are checked as tally.read_csv checks them.
local ok, err = pcall(mpi.read_csv, paths[1], { progress = "yes" })
assert(not ok and tostring(err):find("option 'progress' must be a boolean", 1, true), tostring(err))
assert(#mpi.read_csv(paths[1], { on_error = "skip", progress = true }) == 2988)

if rank == 0 then print("test_rejects: ok on " .. size .. " rank(s)") end
