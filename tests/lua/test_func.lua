-- Scalar functions written in Lua (tally.func), and step_batch of Lua
-- aggregates. Run from the repository root: tally tests/lua/test_func.lua

local tally = require "tally"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

local function close(a, b) return math.abs(a - b) <= 1e-9 * math.max(1, math.abs(b)) end

local t = tally.read_csv("data/jica_training.csv")   -- program, year, participants, countries

-- a function with a declared type, in mutate
local bucket = tally.func{
  name = "bucket", type = "string",
  fn = function(x) if x >= 12 then return "big" end return "small" end,
}
assert(tostring(bucket) == "Function: bucket (string)")
local m = t:mutate("b = bucket(participants)")
for i = 1, #t do
  local p = t[i].participants
  if p == nil then assert(m[i].b == nil)                 -- a null argument: a null result
  else assert(m[i].b == (p >= 12 and "big" or "small")) end
end

-- in filter, against the same filter by a Lua predicate
local f = t:filter("bucket(participants) == 'big' and year >= 2017")
local g = t:filter(function(r) return r.participants ~= nil and r.participants >= 12 and r.year >= 2017 end)
assert(#f == #g and #f > 0)
for i = 1, #f do assert(f[i].participants == g[i].participants and f[i].program == g[i].program) end

-- inside an aggregate's argument, and over aggregates
local twice = tally.func{ name = "twice", type = "int", fn = function(x) return 2 * x end }
local a = t:group_by("program"):agg("s = sum(twice(participants))", "r = sum(participants)",
                                    "b = bucket(sum(participants))")
for i = 1, #a do
  assert(a[i].s == 2 * a[i].r)
  assert(a[i].b == (a[i].r >= 12 and "big" or "small"))
end
assert(t:agg("s = sum(twice(participants))")[1].s == 2 * 446)

-- over columns, as the column operators: a new column; over plain values, a call
local c = bucket(t.participants)
assert(#c == #t and c[1] == m[1].b and c[5] == nil)
local h = tally.func{ name = "hyp", type = "float", fn = function(x, y) return math.sqrt(x * x + y * y) end }
local hc = h(t.participants, t.countries)
assert(close(hc[1], math.sqrt(t[1].participants ^ 2 + t[1].countries ^ 2)))
local hk = h(t.participants, 2)                        -- a column and a constant
assert(close(hk[1], math.sqrt(t[1].participants ^ 2 + 4)))
assert(bucket(20) == "big" and h(3, 4) == 5)

-- nulls = true: the function sees nil and decides
local nz = tally.func{ name = "nz", type = "int", nulls = true,
                       fn = function(x) if x == nil then return -1 end return x end }
local z = t:mutate("z = nz(participants)")
local nulls = 0
for i = 1, #z do if z[i].z == -1 then nulls = nulls + 1 end end
assert(nulls == t.participants:nulls() and nulls > 0)
assert(#t:filter("nz(null) == -1") == #t)              -- a bare null argument

-- argument and result types: ints, floats, strings, bools, dates
local half = tally.func{ name = "half", type = "float", fn = function(x) return x // 2 end }
assert(t:mutate("h = half(participants)")[1].h == 5.0)   -- an int result into a float
local lenf = tally.func{ name = "lenf", type = "int", fn = function(s) return #s end }
assert(t:mutate("l = lenf(program)")[1].l == #t[1].program)
local neg = tally.func{ name = "neg", type = "bool", fn = function(b) return not b end }
assert(#t:filter("neg(year > 2017)") == #t:filter("year <= 2017"))
local whole = tally.func{ name = "whole", type = "int", fn = function(x) return x * 1.0 end }
assert(t:mutate("w = whole(participants)")[1].w == 11)     -- 11.0 converts to 11
local d = tally.from_columns{ { "s", { "2016-01-02", "2020-02-29", "x" } } }
local todate = tally.func{ name = "todate", type = "date",
                           fn = function(s) if s ~= "x" then return s end end }
local dd = d:mutate("d = todate(s)")
assert(dd:col("d"):type() == "date" and dd[1].d == "2016-01-02" and dd[3].d == nil)
assert(#dd:filter("todate(s) >= '2017-01-01'") == 1)
local nextday = tally.func{ name = "nextday", type = "string", fn = function(x) return x end }
assert(dd:mutate("e = nextday(d)")[2].e == "2020-02-29")     -- a date argument reads as text

-- conversion errors name the function, the row and the value
check_error("mutate: function 'whole': row 1: returned number 5.5, which is not an int", function()
  return t:mutate("w = whole(participants / 2)")
end)
check_error("mutate: function 'lenf': row 1:", function() return t:mutate("l = lenf(year)") end)
check_error([[function 'baddate': row 1: returned string "2016-13-01", which is not a date]],
            function()
              tally.func{ name = "baddate", type = "date", fn = function() return "2016-13-01" end }
              return t:mutate("d = baddate(year)")
            end)
check_error([[returned table value, which is not a string]], function()
  tally.func{ name = "tab", type = "string", fn = function() return {} end }
  return t:filter("tab(year) == 'x'")
end)

-- an error inside fn names the function and the row (1-based, of the table)
check_error("filter: function 'boom': row 6: tests/lua/test_func.lua", function()
  tally.func{ name = "boom", type = "bool",
              fn = function(p) if p == "Community Policing" then error("no") end return true end }
  return t:filter("boom(program) and year == 2017")   -- row 6 is its first
end)
check_error("agg: function 'fails': row 3: ", function()
  local k = 0
  tally.func{ name = "fails", type = "int",
              fn = function(x) k = k + 1; if k == 3 then error("third") end return x end }
  return t:agg("s = sum(fails(year))")
end)
check_error("call: function 'bucket': row 1: ", function() return bucket(t.program) end)

-- type checking happens before any row is read: the declared type is used
local calls = 0
tally.func{ name = "counted", type = "string", fn = function(x) calls = calls + 1; return "a" end }
check_error("cannot compare string with int", function() return t:filter("counted(year) > 3") end)
check_error("arithmetic on string and int", function() return t:mutate("x = counted(year) + 1") end)
assert(calls == 0)

-- definitions that are refused
check_error("func: 'type' must name the result type",
            function() return tally.func{ name = "u", fn = print } end)
check_error("func: 'type' must name the result type",
            function() return tally.func{ name = "u", fn = print, type = "number" } end)
check_error("func: 'fn' must be a function",
            function() return tally.func{ name = "u", type = "int" } end)
check_error("func: 'abs' is a built-in scalar function",
            function() return tally.func{ name = "abs", type = "int", fn = print } end)
check_error("func: 'sum' is a built-in aggregate",
            function() return tally.func{ name = "sum", type = "int", fn = print } end)
-- every built-in the core lists is refused, window functions too (a `lag`
-- of the host's would be shadowed by the built-in one)
check_error("func: 'lag' is a built-in window function",
            function() return tally.func{ name = "lag", type = "int", fn = print } end)
check_error("func: 'row_number' is a built-in window function",
            function() return tally.func{ name = "row_number", type = "int", fn = print } end)
check_error("func: 'not' is a built-in name (a word of the expression language)",
            function() return tally.func{ name = "not", type = "bool", fn = print } end)
check_error("func: name '1x' is not an identifier",
            function() return tally.func{ name = "1x", type = "int", fn = print } end)
check_error("unknown function 'nosuch'", function() return t:mutate("x = nosuch(year)") end)

-- the engine stays usable after the errors
assert(#t:filter("bucket(participants) == 'big' and year >= 2017") == #f)
assert(t:agg("s = sum(twice(participants))")[1].s == 892)

-- many rows and threads: the same result as the Lua loop, on one thread
local big = {}
for i = 1, 300000 do big[i] = (i % 97 == 0) and tally.null or i end
local bt = tally.from_columns{ { "x", big } }
local sq = tally.func{ name = "sq", type = "int", fn = function(x) return x % 10 end }
local bm = bt:mutate("y = sq(x)")
local ok = 0
for i = 1, #bt, 997 do
  local x = big[i]
  if x == tally.null then assert(bm[i].y == nil) else assert(bm[i].y == x % 10) end
  ok = ok + 1
end
assert(ok > 0)
assert(#bt:filter("sq(x) == 3") == #bt:filter("x % 10 == 3"))

-- ---------------------------------------------------------------------------
-- step_batch: the same results as step, once per group and batch

local lsum = tally.aggregate{ name = "lsum", init = 0, type = "float",
                              step = function(s, x) return s + math.log(x) end }
local lsum_b = tally.aggregate{
  name = "lsum_b", init = 0, type = "float",
  step_batch = function(s, v, n)
    for i = 1, n do s = s + math.log(v[i]) end
    return s
  end,
}
local r1 = t:group_by("program"):agg("a = lsum(participants)", "b = lsum_b(participants)",
                                     "c = sum(ln(participants))")
for i = 1, #r1 do
  assert(close(r1[i].a, r1[i].b), r1[i].program)
  assert(close(r1[i].b, r1[i].c), r1[i].program)
end

-- a table state, several arguments, nulls passed as tally.null
local wm = tally.aggregate{
  name = "wm", init = function() return { s = 0, w = 0, nulls = 0 } end, nulls = true,
  step_batch = function(st, x, n, w)
    for i = 1, n do
      if x[i] == tally.null or w[i] == tally.null then st.nulls = st.nulls + 1
      else st.s = st.s + x[i] * w[i]; st.w = st.w + w[i] end
    end
  end,
  final = function(st) return st.s / st.w + st.nulls * 1000 end,
}
local wm1 = tally.aggregate{
  name = "wm1", init = function() return { s = 0, w = 0, nulls = 0 } end, nulls = true,
  step = function(st, x, w)
    if x == nil or w == nil then st.nulls = st.nulls + 1
    else st.s = st.s + x * w; st.w = st.w + w end
  end,
  final = function(st) return st.s / st.w + st.nulls * 1000 end,
}
local r2 = t:group_by("year"):agg("a = wm(participants, countries)", "b = wm1(participants, countries)")
for i = 1, #r2 do assert(close(r2[i].a, r2[i].b)) end

-- many groups over many batches, with nulls
local ks, xs = {}, {}
for i = 1, 50000 do
  ks[i] = i % 37
  xs[i] = (i % 11 == 0) and tally.null or (i % 1000) + 0.5
end
local bt2 = tally.from_columns{ { "k", ks }, { "x", xs } }
local cnt_b = tally.aggregate{ name = "cnt_b", init = 0,
                               step_batch = function(s, v, n) return s + n end }
local sum_b = tally.aggregate{ name = "sum_b", init = 0, type = "float",
                               step_batch = function(s, v, n)
                                 for i = 1, n do s = s + v[i] end
                                 return s
                               end }
local r3 = bt2:group_by("k"):agg("n = cnt_b(x)", "m = count(x)", "s = sum_b(x)", "r = sum(x)")
assert(#r3 == 37)
for i = 1, #r3 do
  assert(r3[i].n == r3[i].m)
  assert(close(r3[i].s, r3[i].r))
end
local none = tally.aggregate{ name = "none_b", init = 0, step_batch = function(s, v, n) return s + n end }
assert(bt2:agg("n = none_b()")[1].n == 50000)        -- no argument: every row counts

-- errors inside step_batch name the aggregate and the group
check_error("agg: \"bad_b(participants)\": bad_b: step_batch: group program = 'Community Policing': ", function()
  local calls = 0
  tally.aggregate{ name = "bad_b", init = 0,
                   step_batch = function(s, v, n)
                     calls = calls + 1
                     if calls == 2 then error("second group") end
                     return s + n
                   end }
  return t:group_by("program"):agg("bad_b(participants)")
end)
check_error("step_batch must return the new state (a number), got nil", function()
  tally.aggregate{ name = "nil_b", init = 0, step_batch = function() end }
  return t:agg("nil_b(year)")
end)
check_error("aggregate: 'step_batch' must be a function",
            function() return tally.aggregate{ name = "x_b", init = 0, step_batch = 1 } end)
check_error("aggregate: 'step' must be a function",
            function() return tally.aggregate{ name = "x_b", init = 0 } end)

-- the engine stays usable
assert(close(t:agg("s = lsum_b(participants)")[1].s, t:agg("s = lsum(participants)")[1].s))

print("test_func: ok")
