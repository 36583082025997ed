-- Functions written in Lua (tally.func) on the worker threads: over many rows,
-- mutate, filter and the arguments of aggregates call them in Lua states of the
-- workers, which hold copies of the function, its upvalues and the globals it
-- reads. Each query runs on 1 and 2 threads and with `parallel = false`; the
-- results must be identical. Run from the repository root:
--   tally tests/lua/test_func_threads.lua

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

-- 200 000 rows: floats with nulls, ints, strings with nulls, dates
local N = 200000
local path = os.tmpname()
local f = assert(io.open(path, "w"))
f:write("n,x,i,s,d\n")
local seed = 11
for r = 1, N do
  seed = (seed * 1103515245 + 12345) % 2147483648
  local x = seed % 13 == 0 and "" or string.format("%.17g", 1 + (seed >> 4) % 1000 / 7)
  local s = seed % 17 == 0 and "" or string.format("w%03d", (seed >> 6) % 500)
  f:write(r, ",", x, ",", (seed >> 8) % 100000 - 50000, ",", s, ",",
          string.format("2020-%02d-%02d", 1 + seed % 12, 1 + (seed >> 3) % 28), "\n")
end
f:close()
local t = tally.read_csv(path)
os.remove(path)
check(#t == N and t.d:type() == "date")

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
for _, prefix in ipairs{ "par", "one" } do
  for _, name in ipairs(names) do
    local def, inner = {}, defs[name].fn
    for k, v in pairs(defs[name]) do def[k] = v end
    def.name = prefix .. "_" .. name
    if prefix == "one" then def.parallel = false end
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
local ref = run("one")
tally.threads(2)
here = {}
local par = run("par")
local stayed = {}
for name in pairs(here) do stayed[#stayed + 1] = name end
table.sort(stayed)
-- tag returns strings, whose results are appended in order on this thread; ud
-- holds a tally table, which cannot be copied
check(table.concat(stayed, " ") == "tag ud", "ran in the caller's state: " .. table.concat(stayed, " "))
check(par == ref, "2 threads differ from 1")
local one2 = run("one")
check(one2 == ref, "parallel = false differs")
tally.threads(1)
check(run("par") == ref, "1 thread differs")
tally.threads(2)

-- the calls against plain Lua
local m = t:mutate("a = par_sq(x)", "h = par_half(i)")
local xs, is = t.x:totable(), t.i:totable()
for j = 1, N, 101 do
  check(m.a[j] == (xs[j] ~= tally.null and xs[j] * xs[j] * 3 or nil), "sq at row " .. j)
  check(m.h[j] == math.floor(is[j] / 2), "half at row " .. j)
end

-- errors: the same message, with the row, on any thread count
local at = 150001
tally.func{ name = "bad", type = "int", fn = function(v) if v == at then error("the bad row") end return v end }
local msgs = {}
for _, th in ipairs{ 1, 2 } do
  tally.threads(th)
  msgs[th] = check_error("mutate: function 'bad': row " .. at .. ":",
                         function() return t:mutate("b = bad(n)") end)
  check_error("filter: function 'bad': row " .. at .. ":", function() return t:filter("bad(n) > 0") end)
end
check(msgs[1] == msgs[2], "messages differ:\n" .. msgs[1] .. "\n" .. msgs[2])
tally.func{ name = "badtype", type = "int", fn = function(v) return v == at and 0.5 or v end }
check_error("function 'badtype': row " .. at .. ": returned number 0.5, which is not an int",
            function() return t:mutate("b = badtype(n)") end)

-- a global that cannot be copied (a userdata): the calls run again on this thread
UD_GLOBAL = t
tally.func{ name = "udg", type = "int", fn = function(v) return v + #UD_GLOBAL * 0 end }
check(t:mutate("b = udg(n)").b:sum() == N * (N + 1) // 2)

check_error("func: 'parallel' must be a boolean", tally.func,
            { name = "p", type = "int", fn = function(x) return x end, parallel = 1 })

print(string.format("func threads: %d checks passed", checks))
