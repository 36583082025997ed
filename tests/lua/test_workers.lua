-- Lua on the worker threads. An aggregate with a merge runs its ranges of rows
-- (65 536 rows each) in Lua states of the workers, which get copies of init, step
-- and step_batch with their upvalues, and of the globals they read; a function
-- written in Lua (tally.func) is called there the same way by mutate, filter and
-- the arguments of aggregates. Every query runs with 1 and 2 threads and with
-- `parallel = false`; the results must be identical, and must match what plain
-- Lua computes. Run from the repository root: tally tests/lua/test_workers.lua

local tally = require "tally"

local checks = 0
local function check(cond, msg)
  checks = checks + 1
  if not cond then error(msg or "check failed", 2) end
end

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  check(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  check(string.find(err, msg, 1, true),
        string.format("expected an error containing %q, got %q", msg, err))
  return err
end

-- 200 000 rows over 4 ranges: keys with a null group, floats with nulls,
-- ints, strings and dates.
local N = 200000
local k, x, i, s, d = {}, {}, {}, {}, {}
local seed = 7
for r = 1, N do
  seed = (seed * 1103515245 + 12345) % 2147483648
  k[r] = r % 11 == 0 and tally.null or ("k" .. seed % 4)
  x[r] = seed % 13 == 0 and tally.null or 1 + (seed >> 4) % 1000 / 7
  i[r] = (seed >> 8) % 100000 - 50000
  s[r] = seed % 17 == 0 and tally.null or string.format("w%03d", (seed >> 6) % 500)
  d[r] = string.format("2020-%02d-%02d", 1 + seed % 12, 1 + (seed >> 3) % 28)
end
-- through a CSV file, so that d is read as a date and k, s as strings
local path = os.tmpname()
local f = assert(io.open(path, "w"))
f:write("k,x,i,s,d,n\n")
for r = 1, N do
  local function cell(v) return v == tally.null and "" or tostring(v) end
  f:write(cell(k[r]), ",", x[r] == tally.null and "" or string.format("%.17g", x[r]), ",", i[r],
          ",", cell(s[r]), ",", d[r], ",", r, "\n")
end
f:close()
local t = tally.read_csv(path)
os.remove(path)
check(t.d:type() == "date" and t.x:type() == "float" and t.k:type() == "string")
check(#t == N)

-- What a plain loop makes of the same values, by key (nulls skipped).
local want_log, want_n, want_rows = {}, {}, {}
for r = 1, N do
  local kr = k[r] == tally.null and "null" or k[r]
  want_rows[kr] = (want_rows[kr] or 0) + 1
  if x[r] ~= tally.null then
    local key = k[r] == tally.null and "null" or k[r]
    want_log[key] = (want_log[key] or 0) + math.log(x[r])
    want_n[key] = (want_n[key] or 0) + 1
  end
end

-- ===========================================================================
-- Aggregates

do
-- ---------------------------------------------------------------------------
-- the aggregates, each as a definition so that it can be registered again
-- with parallel = false

local log = math.log                    -- a C function as an upvalue
local weights = { k0 = 1, k1 = 2, k2 = 3, k3 = 4, [true] = { nested = 0.5 } }
local function weight(key)              -- a Lua function as an upvalue
  return weights[key] or weights[true].nested
end
OFFSET = 3                              -- globals read by a step: copied on use
function shifted(v) return v + OFFSET end
local cycle = { name = "cycle" }
cycle.self = cycle                      -- a table that holds itself
local function tri(m)                   -- a function that calls itself
  if m <= 0 then return 0 end
  return m + tri(m - 1)
end
local base = { start = 0 }              -- one upvalue of both init and step

local defs = {}
defs.lg = { init = 0, type = "float",
            step = function(st, v) return st + log(v) end,
            merge = function(a, b) return a + b end }
defs.lgb = { init = 0, type = "float",
             step_batch = function(st, vs, n)
               for j = 1, n do st = st + log(vs[j]) end
               return st
             end,
             merge = function(a, b) return a + b end }
defs.wt = { type = "float",
            init = function() return { s = base.start, n = 0 } end,
            step = function(st, v, key)
              st.s = st.s + weight(key) * shifted(v) + (cycle.self.self.name == "cycle" and 0 or 1)
                     + tri(3) - 6 + base.start
              st.n = st.n + 1
            end,
            merge = function(a, b) a.s = a.s + b.s; a.n = a.n + b.n; return a end,
            final = function(st) return st.n > 0 and st.s / st.n or nil end }
defs.nl = { init = 0, type = "int", nulls = true,   -- counts nulls through tally.null
            step = function(st, v) return v == tally.null and st + 1 or st end,
            merge = function(a, b) return a + b end }
defs.txt = { type = "string",                        -- strings and dates reach the workers
             init = function() return { min = nil, len = 0 } end,
             step = function(st, v, day)
               local key = v .. "/" .. tostring(day)
               if not st.min or key < st.min then st.min = key end
               st.len = st.len + #v
             end,
             merge = function(a, b)
               if b.min and (not a.min or b.min < a.min) then a.min = b.min end
               a.len = a.len + b.len
               return a
             end,
             final = function(st) return st.min and (st.min .. ":" .. st.len) end }
defs.sum_i = { init = 0, type = "int",
               step = function(st, v) return st + v end,
               merge = function(a, b) return a + b end }
defs.undef = { init = 0, type = "int",                -- a global that is nil everywhere
               step = function(st) return NOT_A_GLOBAL_ANYWHERE and st + 100 or st + 1 end,
               merge = function(a, b) return a + b end }
defs.ud = { init = 0, type = "int",                   -- a userdata upvalue: stays on one thread
            step = function(st, v) return st + (#t > 0 and v % 2 or 0) end,
            merge = function(a, b) return a + b end }
UD_GLOBAL = t                                        -- a userdata global: found on a worker,
defs.udg = { init = 0, type = "int",                  -- cannot be copied, so the ranges run
             step = function(st, v) return st + (#UD_GLOBAL > 0 and 1 or 0) + v % 3 end,
             merge = function(a, b) return a + b end }    -- again on the calling thread

local order = { "lg", "lgb", "wt", "nl", "txt", "sum_i", "undef", "ud", "udg" }
local queries = {
  "lg = %s_lg(x)", "lgb = %s_lgb(x)", "wt = %s_wt(x, k)", "nl = %s_nl(x)", "txt = %s_txt(s, d)",
  "sum_i = %s_sum_i(i)", "undef = %s_undef(i)", "ud = %s_ud(i)", "udg = %s_udg(i)",
}

-- Which steps ran in this state: a step records its name in `here`, an upvalue,
-- so a step that ran on a worker wrote to the worker's copy and left no trace.
local here = {}
local function register(prefix, parallel)
  for _, name in ipairs(order) do
    local def = {}
    for f, v in pairs(defs[name]) do def[f] = v end
    def.name = prefix .. "_" .. name
    def.parallel = parallel
    for _, f in ipairs{ "step", "step_batch" } do
      local inner = def[f]
      if inner then def[f] = function(...) here[name] = true; return inner(...) end end
    end
    tally.aggregate(def)
  end
end
register("par", nil)
register("one", false)

local function run(prefix, grouped)
  local qs = {}
  for j, q in ipairs(queries) do qs[j] = q:format(prefix) end
  local r = grouped and t:group_by("k"):agg(table.unpack(qs)):sort("k") or t:agg(table.unpack(qs))
  local rows = {}
  for j = 1, #r do
    local row, out = r[j], {}
    for c = 1, #r:names() do
      local v = row[c]
      out[c] = math.type(v) == "float" and string.format("%.17g", v) or tostring(v)
    end
    rows[j] = table.concat(out, "|")
  end
  return rows, r
end

for _, grouped in ipairs{ false, true } do
  tally.threads(1)
  local ref, r = run("one", grouped)
  tally.threads(2)
  here = {}
  local par = run("par", grouped)
  local stayed = {}
  for name in pairs(here) do stayed[#stayed + 1] = name end
  table.sort(stayed)
  check(table.concat(stayed, " ") == "ud udg", "ran in the caller's state: " .. table.concat(stayed, " "))
  local par_one = run("one", grouped)
  tally.threads(1)
  local one = run("par", grouped)
  check(#ref == (grouped and 5 or 1))
  for j = 1, #ref do
    check(par[j] == ref[j], string.format("2 threads differ:\n%s\n%s", par[j], ref[j]))
    check(one[j] == ref[j], string.format("1 thread differs:\n%s\n%s", one[j], ref[j]))
    check(par_one[j] == ref[j], string.format("parallel = false differs:\n%s\n%s", par_one[j], ref[j]))
  end
  -- against the plain loop
  for j = 1, #r do
    local key = grouped and (r.k[j] == nil and "null" or r.k[j]) or nil
    local wl, wn = 0, 0
    for kk, v in pairs(want_log) do
      if not key or kk == key then wl = wl + v; wn = wn + want_n[kk] end
    end
    check(math.abs(r.lg[j] - wl) <= 1e-9 * math.abs(wl), "lg against the loop")
    check(math.abs(r.lgb[j] - wl) <= 1e-9 * math.abs(wl), "lgb against the loop")
    check(r.undef[j] == (key and want_rows[key] or N), "undef counts rows")
  end
end
tally.threads(2)

-- ---------------------------------------------------------------------------
-- the steps ran on the workers: changes to upvalues stay there

local calls = 0
tally.aggregate{ name = "counted", init = 0, merge = function(a, b) return a + b end,
                 step = function(st, v) calls = calls + 1; return st + v end }
tally.aggregate{ name = "counted1", init = 0, merge = function(a, b) return a + b end,
                 parallel = false,
                 step = function(st, v) calls = calls + 1; return st + v end }
local a = t:agg("s = counted(i)")
check(calls == 0, "the steps of a parallel aggregate ran in the caller's state")
local b = t:agg("s = counted1(i)")
check(calls == N, "parallel = false runs every step in the caller's state")
check(a.s[1] == b.s[1])
tally.threads(1)
calls = 0
t:agg("s = counted(i)")
check(calls == N, "one thread runs every step in the caller's state")
tally.threads(2)

-- a table of fewer rows than a range runs in the caller's state
calls = 0
t:head(1000):agg("s = counted(i)")
check(calls == 1000)

-- ---------------------------------------------------------------------------
-- errors: the same message, with the group and the row, on any thread count

local at = 150001   -- in the third range
tally.aggregate{ name = "bad", init = 0, merge = function(a, b) return a + b end,
                 step = function(st, v)
                   if v == at then error("the bad row") end
                   return st + v
                 end }
local msgs = {}
for _, th in ipairs{ 1, 2 } do
  tally.threads(th)
  msgs[th] = check_error("bad: step: group k = '" .. k[at] .. "', row " .. at .. ":",
                         function() return t:group_by("k"):agg("b = bad(n)") end)
  check_error("the bad row", function() return t:agg("b = bad(n)") end)
end
check(msgs[1] == msgs[2], "messages differ:\n" .. msgs[1] .. "\n" .. msgs[2])

-- a step that returns no number, and a merge that fails
tally.aggregate{ name = "nonum", init = 0, merge = function(a, b) return a + b end,
                 step = function(st, v) if v == at then return "x" end return st + v end }
check_error("nonum: step: row " .. at .. ": step must return the new state (a number), got string",
            function() return t:agg("b = nonum(n)") end)
tally.aggregate{ name = "badmerge", init = 0, step = function(st, v) return st + v end,
                 merge = function() error("no merging") end }
check_error("badmerge: merge:", function() return t:agg("b = badmerge(i)") end)
check_error("no merging", function() return t:agg("b = badmerge(i)") end)

-- ---------------------------------------------------------------------------
-- globals with a metatable (a strict mode): a name the caller lacks is asked of
-- the caller's __index, on the calling thread

tally.aggregate{ name = "strict", init = 0, merge = function(a, b) return a + b end,
                 step = function(st, v) return st + v * (UNSET_SCALE or 1) end }
setmetatable(_G, { __index = function(_, name) error("strict: no global " .. name, 2) end })
check_error("strict: no global UNSET_SCALE", function() return t:agg("s = strict(n)") end)
setmetatable(_G, nil)
check(t:agg("s = strict(n)").s[1] == N * (N + 1) // 2)

-- ---------------------------------------------------------------------------
-- the option

check_error("aggregate: 'parallel' must be a boolean", tally.aggregate,
            { name = "p", init = 0, step = function(st) return st end, parallel = "yes" })

end

-- ===========================================================================
-- Functions

do
-- Which functions ran in this state: each records its name in `here`, an upvalue,
-- so a call made on a worker wrote to the worker's copy and left no trace.
local here = {}
local scale = { factor = 3 }               -- a table upvalue
local floor = math.floor                   -- a C function upvalue
LIMIT = 50                                 -- a global, copied on use
local defs = {
  sq = { type = "float", fn = function(x) return x * x * scale.factor end },
  big = { type = "bool", fn = function(x) return x > LIMIT end },
  day = { type = "int", fn = function(d) return tonumber(d:sub(9, 10)) end },
  nul = { type = "int", nulls = true, fn = function(x) return x == nil and 1 or 0 end },
  tag = { type = "string", fn = function(s) return s:upper() end },
  half = { type = "int", fn = function(i) return floor(i / 2) end },
  ud = { type = "int", fn = function(i) return i + #t * 0 end },   -- a userdata upvalue
}
local names = { "sq", "big", "day", "nul", "tag", "half", "ud" }
for _, prefix in ipairs{ "fp", "fo" } do
  for _, name in ipairs(names) do
    local def, inner = {}, defs[name].fn
    for k, v in pairs(defs[name]) do def[k] = v end
    def.name = prefix .. "_" .. name
    if prefix == "fo" then def.parallel = false end
    def.fn = function(...) here[name] = true; return inner(...) end
    tally.func(def)
  end
end

local function run(prefix)
  local m = t:mutate(("a = %s_sq(x)"):format(prefix), ("b = %s_day(d)"):format(prefix),
                     ("c = %s_nul(x)"):format(prefix), ("e = %s_tag(s)"):format(prefix),
                     ("h = %s_half(i)"):format(prefix), ("u = %s_ud(i)"):format(prefix))
  local fl = t:filter(("%s_big(x) and i > 0"):format(prefix))
  local ag = t:agg(("s = sum(%s_sq(x))"):format(prefix), ("k = count_distinct(%s_tag(s))"):format(prefix))
  local out = {}
  for _, c in ipairs{ "a", "b", "c", "e", "h", "u" } do
    local col = m[c]
    local sum = 0
    for j = 1, #m, 997 do
      local v = col[j]
      out[#out + 1] = v == nil and "null" or tostring(v)
    end
    if col:type() ~= "string" then sum = col:sum() end
    out[#out + 1] = string.format("%.17g", sum)
  end
  out[#out + 1] = tostring(#fl) .. ":" .. table.concat(fl.n:totable(), ",", 1, 50)
  out[#out + 1] = string.format("%.17g|%d", ag.s[1], ag.k[1])
  return table.concat(out, " ")
end

tally.threads(1)
local ref = run("fo")
tally.threads(2)
here = {}
local par = run("fp")
local stayed = {}
for name in pairs(here) do stayed[#stayed + 1] = name end
table.sort(stayed)
-- tag returns strings, whose results are appended in order on this thread; ud
-- holds a tally table, which cannot be copied
check(table.concat(stayed, " ") == "tag ud", "ran in the caller's state: " .. table.concat(stayed, " "))
check(par == ref, "2 threads differ from 1")
local one2 = run("fo")
check(one2 == ref, "parallel = false differs")
tally.threads(1)
check(run("fp") == ref, "1 thread differs")
tally.threads(2)

-- the calls against plain Lua
local m = t:mutate("a = fp_sq(x)", "h = fp_half(i)")
local xs, is = t.x:totable(), t.i:totable()
for j = 1, N, 101 do
  check(m.a[j] == (xs[j] ~= tally.null and xs[j] * xs[j] * 3 or nil), "sq at row " .. j)
  check(m.h[j] == math.floor(is[j] / 2), "half at row " .. j)
end

-- errors: the same message, with the row, on any thread count
local at = 150001
tally.func{ name = "badf", type = "int", fn = function(v) if v == at then error("the bad row") end return v end }
local msgs = {}
for _, th in ipairs{ 1, 2 } do
  tally.threads(th)
  msgs[th] = check_error("mutate: function 'badf': row " .. at .. ":",
                         function() return t:mutate("b = badf(n)") end)
  check_error("filter: function 'badf': row " .. at .. ":", function() return t:filter("badf(n) > 0") end)
end
check(msgs[1] == msgs[2], "messages differ:\n" .. msgs[1] .. "\n" .. msgs[2])
tally.func{ name = "badtype", type = "int", fn = function(v) return v == at and 0.5 or v end }
check_error("function 'badtype': row " .. at .. ": returned number 0.5, which is not an int",
            function() return t:mutate("b = badtype(n)") end)

-- a global that cannot be copied (UD_GLOBAL, a userdata): the calls run again on this thread
tally.func{ name = "udgf", type = "int", fn = function(v) return v + #UD_GLOBAL * 0 end }
check(t:mutate("b = udgf(n)").b:sum() == N * (N + 1) // 2)

check_error("func: 'parallel' must be a boolean", tally.func,
            { name = "p", type = "int", fn = function(x) return x end, parallel = 1 })

end

print(string.format("workers: %d checks passed", checks))
