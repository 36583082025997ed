-- Lua aggregates on the worker threads: an aggregate with a merge runs its
-- ranges of rows (65 536 rows each) in Lua states of the workers, which get
-- copies of init, step and step_batch with their upvalues, and of the globals
-- they read. Every query here runs with 1 and 2 threads and with
-- `parallel = false`; the results must be identical, and must match sums made
-- by a plain Lua loop. Run from the repository root:
--   tally tests/lua/test_aggregate_threads.lua

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

print(string.format("aggregate threads: %d checks passed", checks))
