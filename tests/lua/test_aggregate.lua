-- Aggregates written in Lua: tally.aggregate, driven by the C scan.
-- Run from the repository root: tally tests/lua/test_aggregate.lua

local tally = require "tally"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

local function close(a, b) return math.abs(a - b) <= 1e-12 * math.max(1, math.abs(b)) end

local t = tally.read_csv("data/jica_training.csv")

-- a table state, with merge and final, as in DESIGN.md
local geomean = tally.aggregate{
  name  = "geomean",
  init  = function() return { s = 0, n = 0 } end,
  step  = function(st, x) st.s = st.s + math.log(x); st.n = st.n + 1 end,
  merge = function(a, b) a.s = a.s + b.s; a.n = a.n + b.n; return a end,
  final = function(st) if st.n > 0 then return math.exp(st.s / st.n) end end,
}
assert(tostring(geomean) == "Aggregate: geomean")

-- the same by hand, per program, over the rows in Lua
local logs, counts, order = {}, {}, {}
for _, r in t:rows() do
  if not logs[r.program] then logs[r.program] = 0; counts[r.program] = 0; order[#order + 1] = r.program end
  if r.participants then
    logs[r.program] = logs[r.program] + math.log(r.participants)
    counts[r.program] = counts[r.program] + 1
  end
end

local g = t:group_by("program")
local r = g:agg("n = count()", "g = geomean(participants)", "e = exp(mean(ln(participants)))")
assert(#r == 8)
for i = 1, #r do
  local p = r[i].program
  assert(p == order[i])
  assert(close(r[i].g, math.exp(logs[p] / counts[p])), p)
  assert(close(r[i].g, r[i].e), p)
end

-- the value form: geomean("cost"):as("g"), and the default name
local v = g:agg(geomean("countries"):as("gc"), geomean("participants"))
assert(v:names()[2] == "gc" and v:names()[3] == "geomean_participants")
assert(close(v[1].geomean_participants, r[1].g))

-- a number state is the fast path: step returns the new state
local lsum = tally.aggregate{ name = "lsum", init = 0, type = "float",
                              step = function(s, x) return s + x end }
local s = g:agg("s = lsum(participants)", "half = lsum(participants) / 2", "b = sum(participants)")
for i = 1, #s do
  assert(s[i].s == s[i].b, s[i].program)
  assert(s[i].half == s[i].b / 2)
end
assert(t:agg("s = lsum(participants)")[1].s == 446)

-- nulls are skipped unless asked for; a group of only nulls gets a fresh state
local nulls_seen = tally.aggregate{ name = "nulls_seen", init = 0, nulls = true,
                                    step = function(n, x) return x == nil and n + 1 or n end }
local cnt = tally.aggregate{ name = "cnt", init = 0, step = function(n, x) return n + 1 end }
local u = t:group_by("year"):agg("k = nulls_seen(participants)", "c = cnt(participants)",
                                 "ref = count(participants)")
local missing = 0
for i = 1, #u do
  assert(u[i].c == u[i].ref)
  missing = missing + u[i].k
end
assert(missing == 10)

-- several arguments, expressions as arguments
local wmean = tally.aggregate{
  name = "wmean",
  init = function() return { sw = 0, s = 0 } end,
  step = function(st, x, w) st.s = st.s + x * w; st.sw = st.sw + w end,
  final = function(st) return st.s / st.sw end,
}
local w = t:agg("w = wmean(participants, countries)", "w2 = wmean(participants * 2, countries)")
assert(close(w[1].w2, 2 * w[1].w))

-- errors name the aggregate, the group by its key and the row (1-based)
check_error('agg: "g = geomean(program)": geomean: step: row 1:',
            function() return t:agg("g = geomean(program)") end)
check_error("agg: \"g = geomean(program)\": geomean: step: group year = 2016, row 1:",
            function() return t:group_by("year"):agg("g = geomean(program)") end)
check_error("geomean: step: group program = 'Organization Management for Senior Police " ..
            "Officers', year = 2016, row 1:",
            function() return t:group_by("program", "year"):agg("g = geomean(program)") end)
local picky = tally.aggregate{ name = "picky", init = 0,
                               step = function(s, x) assert(x < 20, "too many"); return s + x end }
local big_row
for i, r in t:rows() do
  if r.participants and r.participants >= 20 then big_row = i; break end
end
check_error(string.format("picky: step: group program = '%s', row %d: ", t[big_row].program, big_row),
            function() return t:group_by("program"):agg("picky(participants)") end)
check_error("bad argument #1 to 'log' (number expected, got string)",
            function() return t:agg("g = geomean(program)") end)
check_error("aggregate 'geomean' has no declared result type, so it can only stand alone",
            function() return t:agg("g = geomean(participants) + 1") end)
check_error("step must return the new state (a number), got nil",
            function()
              tally.aggregate{ name = "bad", init = 0, step = function() end }
              return t:agg("bad(year)")
            end)
-- a number state over a float column without nulls (the step loop's fast path)
local ft = tally.from_columns{ { "k", { "a", "b", "a", "a", "b" } }, { "x", { 1.5, 2.0, 2.5, 4.0, 8.0 } } }
tally.aggregate{ name = "fsum", init = 0, type = "float", step = function(s, x) return s + x end }
local fr = ft:group_by("k"):agg("s = fsum(x)")
assert(fr.s[1] == 8.0 and fr.s[2] == 10.0, "fsum by group")
check_error("fbad: step: group k = 'a', row 1: step must return the new state (a number), got string",
            function()
              tally.aggregate{ name = "fbad", init = 0, step = function() return "x" end }
              return ft:group_by("k"):agg("fbad(x)")
            end)
check_error("failing_final: final: group year = 2016: tests/lua/test_aggregate.lua", function()
  tally.aggregate{ name = "failing_final", init = 0, step = function(s) return s end,
                   final = function(s) error("boom") end }
  return t:group_by("year"):agg("failing_final(year)")
end)
check_error("aggregate: 'sum' is a built-in aggregate",
            function() return tally.aggregate{ name = "sum", init = 0, step = print } end)
-- scalar and window functions too: the binder would find the built-in first
check_error("aggregate: 'abs' is a built-in scalar function",
            function() return tally.aggregate{ name = "abs", init = 0, step = print } end)
check_error("aggregate: 'lead' is a built-in window function",
            function() return tally.aggregate{ name = "lead", init = 0, step = print } end)
check_error("aggregate: 'or' is a built-in name (a word of the expression language)",
            function() return tally.aggregate{ name = "or", init = 0, step = print } end)
check_error("aggregate: 'step' must be a function",
            function() return tally.aggregate{ name = "x", init = 0 } end)
check_error("aggregate: name 'a b' is not an identifier",
            function() return tally.aggregate{ name = "a b", init = 0, step = print } end)
check_error("aggregate: 'type' must be a type name",
            function() return tally.aggregate{ name = "y", init = 0, step = print, type = "num" } end)
check_error("unknown function 'nosuch'", function() return t:agg("nosuch(year)") end)

-- the engine stays usable after an error inside an aggregate
assert(t:agg("s = lsum(participants)")[1].s == 446)

print("test_aggregate: ok")
