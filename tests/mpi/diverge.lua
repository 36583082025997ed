-- diverge.lua -- rank 0 calls an aggregation that the other ranks never
-- call: they go on to `mode` ("end": the end of the script, "gather": a
-- gather). Every rank must fail with a message naming what each called,
-- instead of waiting forever.
local mpi = tally.mpi
local mode = assert(os.getenv("TALLY_DIVERGE"), "TALLY_DIVERGE is not set")
local t = mpi.distribute(tally.from_columns{ { "x", { 1, 2, 3, 4, 5, 6 } } })
if mpi.rank == 0 then
  t:agg("n = count()")
elseif mode == "gather" then
  t:gather()
end
if mode == "gather" then print("unreachable: rank " .. mpi.rank .. " went on") end
