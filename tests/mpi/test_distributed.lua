-- test_distributed.lua -- run by ctest under `mpirun -n 1`, `-n 2` and `-n 3`:
-- every distributed result must equal what one process computes over the
-- same rows (read here by every rank with the plain tally.read_csv).
local mpi = tally.mpi
local rank, size = mpi.rank, mpi.size
local dir = assert(os.getenv("TALLY_MPI_DIR"), "TALLY_MPI_DIR is not set")
local checks = 0

local function fail(fmt, ...)
  error(string.format("[rank %d of %d] " .. fmt, rank, size, ...), 2)
end

local function same_value(a, b, near)
  if a ~= a and b ~= b then return true end   -- NaN
  if near and math.type(a) == "float" and math.type(b) == "float" then
    return math.abs(a - b) <= 1e-12 * math.max(math.abs(a), math.abs(b))
  end
  return a == b and math.type(a) == math.type(b)
end

-- Columns whose floats come from a sum of products or of logarithms, merged
-- from states that cover other runs of rows than one process's: equal to
-- 1e-12 relative, not to the bit. Every other value must be identical.
local NEAR = { sd = true, v = true, gm = true, g = true }

-- Tables equal: names, types, rows in order, values (NaN equals NaN).
local function check_same(got, want, what)
  checks = checks + 1
  if got:ncol() ~= want:ncol() or #got ~= #want then
    fail("%s: %d x %d, want %d x %d", what, #got, got:ncol(), #want, want:ncol())
  end
  for j, name in ipairs(want:names()) do
    if got:names()[j] ~= name then fail("%s: column %d is '%s', want '%s'", what, j, got:names()[j], name) end
    local gc, wc = got:col(name), want:col(name)
    if gc:type() ~= wc:type() then fail("%s: column '%s' is %s, want %s", what, name, gc:type(), wc:type()) end
    local gv, wv = gc:totable(), wc:totable()
    for i = 1, #want do
      if not same_value(gv[i], wv[i], NEAR[name]) then
        fail("%s: column '%s' row %d is %s, want %s", what, name, i, tostring(gv[i]), tostring(wv[i]))
      end
    end
  end
end

local function check_error(fn, want, what)
  checks = checks + 1
  local ok, msg = pcall(fn)
  if ok then fail("%s: no error", what) end
  if not tostring(msg):find(want, 1, true) then fail("%s: error %q lacks %q", what, tostring(msg), want) end
  return msg
end

-- ---------------------------------------------------------------------------
-- Data: made by rank 0, the same every run. Quoted fields hold separators,
-- doubled quotes and line ends; a column is int early and float late; blanks.
local programs = { "Police Administration", "Crime \"Prevention\"", "Disaster, Relief",
                   "Forensic\nScience", "Traffic Control", "Drug Enforcement" }
local function field(s)
  if s:find('[,"\n]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

local big = dir .. "/big.csv"
local parts = { dir .. "/part1.csv", dir .. "/part2.csv", dir .. "/part3.csv" }
if rank == 0 then
  local seed = 12345
  local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n end
  local rows = {}
  for i = 1, 3000 do
    local p = programs[rnd(#programs) + 1]
    local year = 2000 + rnd(20)
    local part = rnd(10) == 0 and "" or tostring(rnd(40))
    local cost = rnd(9) == 0 and "" or string.format("%.2f", rnd(100000) / 7)
    local ratio = i < 2600 and tostring(rnd(100)) or string.format("%.3f", rnd(1000) / 3)
    local day = string.format("20%02d-%02d-%02d", rnd(20), rnd(12) + 1, rnd(28) + 1)
    local flag = rnd(2) == 0 and "true" or "false"
    rows[i] = table.concat({ field(p), year, part, cost, ratio, day, flag }, ",")
  end
  local header = "program,year,participants,cost,ratio,day,flag\n"
  local f = assert(io.open(big, "w"))
  f:write(header, table.concat(rows, "\n"), "\n")
  f:close()
  local cut = { 0, 900, 2000, 3000 }
  for k = 1, 3 do
    f = assert(io.open(parts[k], "w"))
    f:write(header, table.concat(rows, "\n", cut[k] + 1, cut[k + 1]), "\r\n")
    f:close()
  end
  f = assert(io.open(dir .. "/bad.csv", "w"))
  f:write(header, table.concat(rows, "\n", 1, 2000), "\nbroken,2001\n", table.concat(rows, "\n", 2001, 3000), "\n")
  f:close()
end
mpi.barrier()

local geomean = tally.aggregate{
  name = "geomean", type = "float",
  init = function() return { s = 0, n = 0 } end,
  step = function(st, x) if x > 0 then st.s = st.s + math.log(x); st.n = st.n + 1 end end,
  merge = function(a, b) a.s = a.s + b.s; a.n = a.n + b.n; return a end,
  final = function(st) if st.n > 0 then return math.exp(st.s / st.n) end end,
}
local total = tally.aggregate{
  name = "total", init = 0,
  step = function(s, x) return s + x end,
  merge = function(a, b) return a + b end,
}
local unmergeable = tally.aggregate{
  name = "unmergeable", init = 0,
  step = function(s, x) return s + x end,
}

local aggs = {
  "n = count()", "np = count(participants)", "s = sum(participants)", "m = mean(cost)",
  "lo = min(cost)", "hi = max(day)", "med = median(participants)",
  "q = quantile(cost, 0.9)", "sd = stddev(cost)", "v = var(participants)",
  "cd = count_distinct(year)", "f = first(cost)", "l = last(program)",
  "rate = sum(participants) / count()", "gm = geomean(cost)", "t = total(participants)",
  "r = sum(ratio)", "flags = count_distinct(flag)",
}

local function queries(d, ref, what)
  check_same(d:gather(), ref, what .. ": gather")
  checks = checks + 1
  if #d ~= #ref then fail("%s: #t is %d, want %d", what, #d, #ref) end
  check_same(d:group_by("program"):agg(table.unpack(aggs)),
             ref:group_by("program"):agg(table.unpack(aggs)), what .. ": group_by program")
  check_same(d:group_by("year", "flag"):agg("n = count()", "s = sum(cost)", geomean("cost"):as("g")),
             ref:group_by("year", "flag"):agg("n = count()", "s = sum(cost)", geomean("cost"):as("g")),
             what .. ": group_by year, flag")
  check_same(d:group_by("participants"):count(), ref:group_by("participants"):count(),
             what .. ": count by a key with nulls")
  checks = checks + 1
  if #d:group_by("program", "year") ~= #ref:group_by("program", "year") then
    fail("%s: #g differs", what)
  end
  check_same(d:agg(table.unpack(aggs)), ref:agg(table.unpack(aggs)), what .. ": agg")
  local df = d:filter("year >= 2010 and participants > 5"):mutate("spend = cost * participants")
  local rf = ref:filter("year >= 2010 and participants > 5"):mutate("spend = cost * participants")
  check_same(df:gather(), rf, what .. ": filter + mutate")
  check_same(df:group_by("program"):agg("x = sum(spend)", "y = max(spend)"),
             rf:group_by("program"):agg("x = sum(spend)", "y = max(spend)"), what .. ": agg of mutate")
  check_same(d:top(7, "-cost", "year"), ref:top(7, "-cost", "year"), what .. ": top")
  check_same(d:sort("program", "-participants"):gather(), ref:sort("program", "-participants"),
             what .. ": sort")
  check_same(d:distinct("program", "flag"), ref:distinct("program", "flag"), what .. ": distinct")
  checks = checks + 1
  if d:count_distinct("cost") ~= ref:col("cost"):count_distinct() then
    fail("%s: count_distinct", what)
  end
  check_same(d:head(5), ref:head(5), what .. ": head")
  check_same(d:select("year", "cost"):rename{ cost = "price" }:gather(),
             ref:select("year", "cost"):rename{ cost = "price" }, what .. ": select + rename")
  check_error(function() return d:group_by("program"):agg("u = unmergeable(participants)") end,
              "merge", what .. ": an aggregate without merge")
end

-- One large file cut into byte ranges.
local ref = tally.read_csv(big)
local d = mpi.read_csv(big)
queries(d, ref, "one file")

-- Several files: their rows in order.
local refs = {}
for k = 1, 3 do refs[k] = tally.read_csv(parts[k]) end
local pref = refs[1]:concat(refs[2], refs[3])
queries(mpi.read_csv(parts), pref, "three files")

-- Only some columns.
check_same(mpi.read_csv(big, { columns = { "program", "cost" } }):gather(),
           tally.read_csv(big, { columns = { "program", "cost" } }), "columns option")

-- A table every rank holds, distributed.
queries(mpi.distribute(ref), ref, "distribute")

-- The seed tables.
for _, name in ipairs({ "data/jica_training.csv", "data/jdr_dispatches.csv" }) do
  local sref = tally.read_csv(name)
  local sd = mpi.read_csv(name)
  check_same(sd:gather(), sref, name)
  local key = sref:names()[1]
  check_same(sd:group_by(key):agg("n = count()"), sref:group_by(key):agg("n = count()"), name .. ": count")
end

-- Errors: every rank raises the same one, and it names the place as a
-- single read would.
local _, single = pcall(tally.read_csv, dir .. "/bad.csv")
local msg = check_error(function() return mpi.read_csv(dir .. "/bad.csv") end, single, "bad record")
check_error(function() return mpi.read_csv(dir .. "/missing.csv") end, "missing.csv", "missing file")
check_error(function() return mpi.read_csv(big, { range_start = 10 }) end,
            "option 'range_start' is set by tally.mpi itself", "a range of the caller's")
check_error(function() return d:filter("yaer > 1") end, "unknown column 'yaer'", "bad filter")
if size > 1 then
  check_error(function()
    return d:filter(rank == size - 1 and "nope > 1" or "year > 1")
  end, string.format("(rank %d of %d)", size - 1, size), "one rank fails")
end
assert(tostring(msg):find("record 2001)", 1, true), "the bad record's number: " .. tostring(msg))

local st = mpi.stats()
assert(st.exchanges > 0 and (size == 1 or st.bytes_received > 0))
if rank == 0 then print(string.format("test_distributed: %d ranks, %d checks", size, checks)) end
