-- abort.lua -- one rank fails on its own, outside any collective operation,
-- while the others wait for it: the job must stop, with that rank's message.
local mpi = tally.mpi
if mpi.rank == mpi.size - 1 then
  error("the last rank stops here")
end
mpi.barrier()
print("unreachable: the barrier was passed")
