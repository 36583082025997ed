-- Run by tests/embed/host.c: `data` is the host's table, its columns the
-- host's own arrays. The result goes back to the host.
assert(#data == 8 and data:col("cost"):nulls() == 1)
local known = data:filter("not is_null(cost) and year >= 2017")
local by = known:mutate("eur = cost * 2"):group_by("region")
return by:agg("n = count()", "total = sum(eur)", "first = min(year)")
