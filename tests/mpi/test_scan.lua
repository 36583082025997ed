-- test_scan.lua -- run by ctest under `mpirun -n 1`, `-n 2` and `-n 3`:
-- tally.mpi.scan(...):...:collect() must equal tally.scan(...):...:collect()
-- of one process over the same files, with built-in and Lua aggregates
-- (their partial states merged across the ranks), Lua functions and window
-- mutates (the ranks' rows gathered first), at
-- morsel sizes that give a rank many morsels, one, or none.
local mpi = tally.mpi
local testing = require "tally.testing"
local rank, size = mpi.rank, mpi.size
local dir = assert(os.getenv("TALLY_MPI_DIR"), "TALLY_MPI_DIR is not set")
local checks = 0

local function fail(fmt, ...)
  error(string.format("[rank %d of %d] " .. fmt, rank, size, ...), 2)
end

local function same_value(a, b)
  if math.type(a) == "float" and math.type(b) == "float" then
    return a == b or math.abs(a - b) <= 1e-9 * math.max(1, math.abs(a), math.abs(b))
  end
  return a == b and math.type(a) == math.type(b)
end

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
      if not same_value(gv[i], wv[i]) then
        fail("%s: column '%s' row %d is %s, want %s", what, name, i, tostring(gv[i]), tostring(wv[i]))
      end
    end
  end
end

-- Two files, written by rank 0 (every rank reads them after the barrier).
local paths = { dir .. "/scan_a.csv", dir .. "/scan_b.csv" }
if rank == 0 then
  math.randomseed(21)
  for f, n in ipairs{ 300, 170 } do
    local out = { "k,g,x,y" }
    for i = 1, n do
      out[#out + 1] = string.format("%d,%s,%.2f,%s", math.random(0, 5),
        ({ "a", "b", "c", "" })[math.random(4)], math.random() * 50 - 10,
        math.random(6) == 1 and "" or tostring(math.random(-9, 9)))
    end
    local h = assert(io.open(paths[f], "wb"))
    h:write(table.concat(out, "\n"), "\n")
    h:close()
  end
end
mpi.barrier()

local sumsq = tally.aggregate{ name = "sumsq", init = 0,
  step = function(s, x) return s + x * x end, merge = function(a, b) return a + b end }
-- the count and the first 12 values in row order: merged out of order, it would show
tally.aggregate{ name = "trail", type = "string", init = function() return { n = 0 } end,
  step = function(st, x) st.n = st.n + 1; if #st < 12 then st[#st + 1] = x end end,
  merge = function(a, b)
    a.n = a.n + b.n
    for i = 1, #b do if #a < 12 then a[#a + 1] = b[i] end end
    return a
  end,
  final = function(st) return st.n .. ":" .. table.concat(st, ",") end }
tally.func{ name = "bucket", type = "int", fn = function(x) return math.floor(x / 10) end }

local types = { k = "int", g = "string", x = "float", y = "int" }
local right = tally.from_columns{ { "k", { 0, 1, 1, 3, 7, tally.null } },
                                  { "label", { "zero", "one", "uno", "three", "seven", "none" } } }
local plans = {
  { "group_by", function(s)
      return s:group_by("k"):agg("n = count()", "sy = sum(y)", "m = mean(x)", sumsq("x"):as("q"),
                                 "t = trail(g)")
    end },
  { "agg", function(s) return s:agg("n = count(y)", "q = sumsq(y)", "t = trail(k)") end },
  { "lua function", function(s)
      return s:mutate("b = bucket(x)"):filter("b >= 0"):group_by("b"):agg("t = trail(k)", "n = count()")
    end },
  { "after agg", function(s)
      return s:group_by("g"):agg("n = count()", "s = sum(x)"):filter("n > 1"):sort("-n", "g")
    end },
  { "head", function(s) return s:mutate("b = bucket(x)"):head(37) end },
  { "top", function(s) return s:top(11, "-y", "x") end },
  { "distinct", function(s) return s:distinct("k", "g") end },
  { "sort", function(s) return s:filter("y > 0"):sort("y", "-x"):head(50) end },
  -- right and full joins need every left row before the unmatched right ones
  { "join right", function(s) return s:filter("y > 0"):join(right, { on = "k", how = "right" }) end },
  { "join full", function(s) return s:join(right, { on = "k", how = "full" }) end },
  -- a window mutate: every rank's rows before it, in file order, then the mutate
  { "window", function(s)
      return s:filter("y > 0"):mutate("p = lag(x)", "r = row_number()", "y = cumsum(y)")
    end },
  { "window by g", function(s)
      return s:mutate("b = bucket(x)"):mutate("c = cumsum(y)", "s = x / sum(x)", "rk = rank()",
                                              { order_by = "-y", partition_by = "g" }):head(60)
    end },
  { "window then group_by", function(s)
      return s:mutate("d = y - lag(y)", "n = row_number()"):mutate("m = rolling_mean(d, 3)")
              :group_by("k"):agg("sd = sum(d)", "t = trail(n)", "sm = sum(m)")
    end },
}

for _, mb in ipairs{ 64, 1000, 0 } do
  local opts = { types = types }
  testing.set{ morsel_bytes = mb }
  for _, plan in ipairs(plans) do
    local want = plan[2](tally.scan(paths, opts)):collect()
    local got = plan[2](mpi.scan(paths, opts)):collect()
    check_same(got, want, string.format("%s, morsel %d", plan[1], mb))
  end
  -- streaming verbs only: a distributed table of each rank's rows, in order
  local s = mpi.scan(paths, opts):mutate("b = bucket(x)"):filter("y ~= 0")
  local d = s:collect()
  local want = tally.scan(paths, opts):mutate("b = bucket(x)"):filter("y ~= 0"):collect()
  if #d ~= #want then fail("distributed rows: %d, want %d", #d, #want) end
  check_same(d:gather(), want, string.format("streaming, morsel %d", mb))
end

-- an error on the files is every rank's
local ok, msg = pcall(mpi.scan, dir .. "/no_such.csv")
checks = checks + 1
if ok or not tostring(msg):find("no_such.csv", 1, true) then fail("a missing file: %s", tostring(msg)) end

if rank == 0 then print(string.format("test_scan: %d checks on %d ranks", checks, size)) end
