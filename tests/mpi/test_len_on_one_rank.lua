-- test_len_on_one_rank.lua -- #t of a distributed table is known on each
-- rank without the others: asking for it on rank 0 only must not wait for
-- ranks that never ask (they go on to the end of the script).
local mpi = tally.mpi
local rows = {}
for i = 1, 10 do rows[i] = i end
local t = mpi.distribute(tally.from_columns{ { "x", rows } })
local f = t:filter("x > 3")
if mpi.rank == 0 then
  print(#t, #f)
  assert(#t == 10, "#t is " .. #t)
  assert(#f == 7, "#f is " .. #f)
  assert(tostring(f):find("7 rows", 1, true), tostring(f))
end
-- each rank's share, and the count every rank knows
assert(#t:local_rows() == 10 // mpi.size + (mpi.rank < 10 % mpi.size and 1 or 0))
if mpi.rank == mpi.size - 1 then assert(#f == 7) end
