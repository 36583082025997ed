-- Partial aggregation: the same results for every range size and thread count,
-- and aggregates written in Lua whose states are saved, loaded and merged.
-- Run from the repository root: tally tests/lua/test_aggregate_partial.lua
--
-- The range size is the environment's TALLY_RANGE_ROWS (rows per range of an
-- aggregation scan, read once per process), so the same queries run in child
-- processes with ranges of 1, 7 and the default rows, and 1 and 2 threads. One
-- row a range merges row by row, which is exactly one scan; at 7 rows var, stddev
-- and means of inexact floats may differ in the last bits, so those are compared
-- with a relative tolerance of 1e-12 and everything else exactly.
-- testing.partial_agg(parts, keys, defs...) (tally.testing) aggregates the rows of several tables
-- through partial states encoded to bytes and merged in order, as the ranks of an
-- MPI job do; it is how the save, load and merge of Lua aggregates are reached.

local tally = require "tally"
local testing = require "tally.testing"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

local function close(a, b, tol)
  if a ~= a or b ~= b then return a ~= a and b ~= b end
  if a == b then return true end
  return math.abs(a - b) <= (tol or 1e-12) * math.max(math.abs(a), math.abs(b))
end

-- A table with keys of every type, nulls, NaN, wide and narrow ints.
local function write_data(path)
  local f = assert(io.open(path, "w"))
  f:write("ks,ki,kb,kd,kf,kt,i,w,f,s\n")
  local x = 12345
  local function rnd() x = (x * 1103515245 + 12345) % 2147483648; return x >> 8 end
  local words = { "apple", "pear", "", "kiwi", "o'hara" }
  for _ = 1, 4000 do
    local a, b, c, d, e = rnd(), rnd(), rnd(), rnd(), rnd()
    local fv = e % 8 == 1 and "nan" or (e % 5 ~= 0 and string.format("%.2f", ((a % 400) - 150) * 0.25) or "")
    f:write(table.concat({
      a % 9 ~= 0 and ("g" .. a % 5) or "", b % 7 ~= 0 and tostring(b % 4 - 1) or "",
      c % 3 == 0 and "" or (c % 2 == 1 and "true" or "false"),
      string.format("2016-0%d-1%d", 1 + d % 3, e % 2), ({ "0.0", "-0.0", "nan", "1.5", "" })[c % 5 + 1],
      string.format("2020-01-01T0%d:00:00", a % 3), c % 6 ~= 0 and tostring(d % 61 - 20) or "",
      d % 5 ~= 0 and tostring(e * 1000003 - 30000000000) or "", fv,
      b % 4 ~= 0 and words[b % 5 + 1] or "" }, ","), "\n")
  end
  f:close()
end

local exact_defs = {
  "n = count()", "count(i)", "sum(i)", "mean(i)", "sum(w)", "sum(f)", "mean(f)", "min(f)",
  "max(f)", "min(s)", "max(s)", "first(s)", "last(s)", "first(f)", "last(w)", "median(i)",
  "quantile(w, 0.3)", "quantile(f, 0.9)", "count_distinct(s)", "count_distinct(f)",
  "count_distinct(w)", "r = sum(i) / count(i)", "lc = lcount(i)", "ls = lsum(i)",
  "mode(s)", "mode(i)", "mode(f)", "arg_min(s, i)", "arg_max(w, f)", "arg_max(kd, s)",
  "count_if(f > 0)", "bool_and(i > -20)", "bool_or(kb)", "string_agg(s, '+')",
}
local approx_defs = { "var(i)", "stddev(f)", "var(w)", "g = exp(mean(ln(abs(f) + 1)))",
  "corr(i, f)", "covar(w, i)", "regr_slope(f, i)", "regr_intercept(i, w)",
  "product(if(i > 30, 1.01, 1))" }
local key_sets = { {}, { "ks" }, { "ki" }, { "kb" }, { "kd" }, { "kf" }, { "kt" },
                   { "ks", "ki", "kb", "kd", "kf", "kt" } }

local function cell(v)
  if v == nil then return "nil" end
  if math.type(v) == "float" then return string.format("%.17g", v) end
  return tostring(v)
end

local function register()
  tally.aggregate{ name = "lcount", init = function() return { n = 0 } end,
                   step = function(st) st.n = st.n + 1 end,
                   merge = function(a, b) a.n = a.n + b.n; return a end,
                   final = function(st) return st.n end, type = "int" }
  tally.aggregate{ name = "lsum", init = 0, step = function(s, x) return s + x end,
                   merge = function(a, b) return a + b end, type = "float" }
end

if arg[1] == "child" then
  register()
  local t = tally.read_csv(arg[2])
  for _, keys in ipairs(key_sets) do
    for _, which in ipairs{ "exact", "approx" } do
      local defs = which == "exact" and exact_defs or approx_defs
      local r = #keys > 0 and t:group_by(table.unpack(keys)):agg(table.unpack(defs))
                          or t:agg(table.unpack(defs))
      for i = 1, #r do
        local row, out = r[i], {}
        for j = 1, #r:names() do out[j] = cell(row[j]) end
        print(which, table.concat(out, "\t"))
      end
    end
  end
  os.exit(0)
end

-- ---------------------------------------------------------------------------
-- every range size and thread count gives the same results

local exe = arg[-1]   -- this runner: the children use tally.testing too
local data = os.tmpname()
write_data(data)

local function run(range, threads)
  local env = (range and ("TALLY_RANGE_ROWS=" .. range .. " ") or "") .. "TALLY_THREADS=" .. threads
  local p = assert(io.popen(string.format("%s %q tests/lua/test_aggregate_partial.lua child %q",
                                          env, exe, data)))
  local lines = {}
  for line in p:lines() do lines[#lines + 1] = line end
  assert(p:close(), "child failed: " .. env)
  return lines
end

local ref = run(nil, 1)
assert(#ref > 100, "too few result lines")
for _, range in ipairs{ "1", "7", "64" } do
  for _, threads in ipairs{ 1, 2 } do
    local got = run(range, threads)
    assert(#got == #ref, "row count differs at range " .. range)
    for k = 1, #ref do
      if ref[k]:sub(1, 5) == "exact" or range == "1" then
        assert(got[k] == ref[k], string.format("range %s, %d threads, line %d:\n%s\n%s",
                                               range, threads, k, got[k], ref[k]))
      else
        local a, b = {}, {}
        for v in ref[k]:gmatch("[^\t]+") do a[#a + 1] = v end
        for v in got[k]:gmatch("[^\t]+") do b[#b + 1] = v end
        for j = 2, #a do
          local x, y = tonumber(a[j]), tonumber(b[j])
          if x and y then assert(close(x, y), string.format("line %d: %s vs %s", k, a[j], b[j]))
          else assert(a[j] == b[j], string.format("line %d: %s vs %s", k, a[j], b[j])) end
        end
      end
    end
  end
end
os.remove(data)

-- ---------------------------------------------------------------------------
-- Lua aggregates in partials: saved, loaded and merged

register()
local t = tally.read_csv("data/jica_training.csv")
local parts = { t:slice(1, 7), t:slice(8, 8), t:slice(9, 30), t:slice(31, #t) }

local geomean = tally.aggregate{
  name  = "geomean", type = "float",
  init  = function() return { s = 0, n = 0 } end,
  step  = function(st, x) st.s = st.s + math.log(x); st.n = st.n + 1 end,
  merge = function(a, b) a.s = a.s + b.s; a.n = a.n + b.n; return a end,
  final = function(st) if st.n > 0 then return math.exp(st.s / st.n) end end,
}
assert(geomean)

-- every kind of value a state may hold, in row order: merged in order, the same
tally.aggregate{
  name = "kinds", type = "string",
  init = function() return { i = 0, f = 0.0, s = "", b = false, list = {}, nested = { [1.5] = "x" } } end,
  step = function(st, x)
    st.i = st.i + 1
    st.f = st.f + x / 2
    st.s = st.s .. x .. ";"
    st.b = st.b or x > 20
    st.list[#st.list + 1] = { x, tostring(x) }
  end,
  merge = function(a, b)
    a.i = a.i + b.i
    a.f = a.f + b.f
    a.s = a.s .. b.s
    a.b = a.b or b.b
    for _, v in ipairs(b.list) do a.list[#a.list + 1] = v end
    assert(b.nested[1.5] == "x")
    return a
  end,
  final = function(st)
    local last = st.list[#st.list]
    return string.format("%s %s %s %s %d %s %s %s", math.type(st.i), math.type(st.f), st.s,
                         tostring(st.b), #st.list, last and math.type(last[1]) or "-",
                         last and type(last[2]) or "-", st.nested[1.5])
  end,
}

local defs = { "n = count()", "s = sum(participants)", "g = geomean(participants)",
               "lc = lcount(participants)", "ls = lsum(participants)", "k = kinds(participants)",
               "q = quantile(participants, 0.3)", "f = first(year)", "l = last(countries)",
               "r = sum(participants) / count(participants)" }
for _, keys in ipairs{ { "program" }, { "year" }, { "program", "year" }, nil } do
  local whole = keys and t:group_by(table.unpack(keys)):agg(table.unpack(defs)) or t:agg(table.unpack(defs))
  local merged = testing.partial_agg(parts, keys, table.unpack(defs))
  assert(#whole == #merged)
  for i = 1, #whole do
    for _, name in ipairs(whole:names()) do
      local a, b = whole[i][name], merged[i][name]
      if math.type(a) == "float" then assert(close(a, b), name)
      else assert(a == b, string.format("%s: %s vs %s", name, tostring(a), tostring(b))) end
    end
    assert(math.type(merged[i].lc) == "integer")
    assert(merged[i].k:find("^integer float "), merged[i].k)
  end
end
-- one part, or parts in another order: the groups come as they first appear
local one = testing.partial_agg({ t }, { "program" }, "k = kinds(participants)")
assert(one[1].k == t:group_by("program"):agg("k = kinds(participants)")[1].k)
local back = testing.partial_agg({ t:slice(9, #t), t:slice(1, 8) }, { "program" }, "f = first(year)", "n = count()")
assert(back[1].program == t[9].program)

-- states that cannot be saved: errors naming the aggregate and the group
tally.aggregate{ name = "fnstate", init = function() return { f = print } end, step = function() end,
                 merge = function(a) return a end, type = "int", final = function() return 1 end }
check_error("fnstate: save: group program = 'Organization Management for Senior Police Officers': " ..
            "the state holds a function, which cannot be saved",
            function() return testing.partial_agg({ t }, { "program" }, "fnstate(year)") end)
check_error("fnstate: save: the state holds a function",
            function() return testing.partial_agg({ t }, nil, "fnstate(year)") end)
tally.aggregate{ name = "cycle", init = function() local c = {}; c.self = c; return c end,
                 step = function() end, merge = function(a) return a end, type = "int",
                 final = function() return 1 end }
check_error("cycle: save: group year = 2016: the state holds a cycle of tables",
            function() return testing.partial_agg({ t }, { "year" }, "cycle(year)") end)
tally.aggregate{ name = "nullstate", init = function() return { tally.null } end,
                 step = function() end, merge = function(a) return a end, type = "int",
                 final = function() return 1 end }
check_error("the state holds a userdata, which cannot be saved",
            function() return testing.partial_agg({ t }, nil, "nullstate(year)") end)
tally.aggregate{ name = "boolkey", init = function() return { [true] = 1 } end,
                 step = function() end, merge = function(a) return a end, type = "int",
                 final = function() return 1 end }
check_error("the state holds a boolean as a key",
            function() return testing.partial_agg({ t }, nil, "boolkey(year)") end)
tally.aggregate{ name = "deep", type = "int", final = function() return 1 end,
                 init = function() local d = {} for _ = 1, 150 do d = { d } end return d end,
                 step = function() end, merge = function(a) return a end }
check_error("deep: save: the state nests tables deeper than 100",
            function() return testing.partial_agg({ t }, nil, "deep(year)") end)
-- shared (not cyclic) tables are saved twice, which is fine
tally.aggregate{ name = "shared", type = "int", step = function() end,
                 init = function() local s = { 1 } return { a = s, b = s } end,
                 merge = function(a, b) return { a = a.a, b = b.b } end,
                 final = function(st) return st.a[1] + st.b[1] end }
assert(testing.partial_agg(parts, nil, "shared(year)")[1].shared_year == 2)

-- a merge that fails names the aggregate, what failed and the group
tally.aggregate{ name = "badmerge", init = 0, step = function(s) return s + 1 end, type = "float",
                 merge = function() error("no merging today") end }
check_error("badmerge: merge: group program = 'Community Policing': ",
            function() return testing.partial_agg(parts, { "program" }, "badmerge(year)") end)
check_error("no merging today",
            function() return testing.partial_agg(parts, { "program" }, "badmerge(year)") end)
tally.aggregate{ name = "numbad", init = 0, step = function(s) return s + 1 end, type = "float",
                 merge = function() return "x" end }
check_error("numbad: merge: group year = 2018: merge must return the new state (a number), got string",
            function() return testing.partial_agg(parts, { "year" }, "numbad(year)") end)

-- without a merge, an aggregate cannot be in a partial (agg itself is unaffected)
tally.aggregate{ name = "nomerge", init = 0, step = function(s) return s + 1 end, type = "float" }
check_error("partial: aggregate 'nomerge' has no merge, so it cannot be combined across threads or processes",
            function() return testing.partial_agg(parts, nil, "nomerge(year)") end)
assert(t:agg("nomerge(year)")[1].nomerge_year == 40)

-- definitions are checked as in agg
check_error("unknown function 'nosuch'", function() return testing.partial_agg(parts, nil, "nosuch(year)") end)
check_error("agg: key 1 must be a column name", function() return testing.partial_agg(parts, { 1 }, "n = count()") end)

-- the engine stays usable after errors inside an aggregate's save or merge
assert(testing.partial_agg(parts, nil, "s = lsum(participants)")[1].s == 446)

print("test_aggregate_partial: ok")
