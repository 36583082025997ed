-- Lua aggregates (tally.aggregate) and Lua functions (tally.func) in lazy
-- scans: group_by/agg, mutate and filter of tally.scan(...) against the
-- in-memory verbs on generated CSV files and tables, at batch sizes down to
-- one row, on 1 and 3 threads; where their calls run (the workers' states,
-- or the calling thread); their errors; and the sandbox.
-- Run from the repository root: tally tests/lua/test_scan_lua.lua

local tally = require "tally"
local testing = require "tally.testing"
local exe = assert(arg[-1], "run this script with the tally executable")

local check = require "tests.lua.scan_check"
local check_error, same = check.check_error, check.same

local function tmpname(ext)
  local p = os.tmpname()
  os.remove(p)
  return p .. (ext or ".csv")
end

local words = { "alpha", "beta", "gamma", "delta" }

-- A CSV of n rows: k (int, few values), g (string, nulls), x (float), y (int, nulls).
local function gen(n, seed)
  math.randomseed(seed)
  local out = { "k,g,x,y" }
  for i = 1, n do
    local g = math.random(6) == 1 and "" or words[math.random(#words)]
    local y = math.random(5) == 1 and "" or tostring(math.random(-50, 50))
    out[#out + 1] = string.format("%d,%s,%.3f,%s", math.random(0, 4), g,
                                  math.random() * 100 - 20, y)
  end
  local p = tmpname()
  local f = assert(io.open(p, "wb"))
  f:write(table.concat(out, "\n"), "\n")
  f:close()
  return p
end

local types = { k = "int", g = "string", x = "float", y = "int" }

-- The aggregates: a number state, a table state whose result depends on
-- the order of the rows (so merging out of order would show), one that
-- takes two arguments and nulls, and one that works a batch at a time.
local sumsq = tally.aggregate{ name = "sumsq", init = 0,
  step = function(s, x) return s + x * x end, merge = function(a, b) return a + b end }
local trail = tally.aggregate{ name = "trail", type = "string",
  init = function() return { n = 0 } end,
  step = function(s, x) s.n = s.n + 1; if #s < 12 then s[#s + 1] = x end end,
  merge = function(a, b)
    a.n = a.n + b.n
    for i = 1, #b do if #a < 12 then a[#a + 1] = b[i] end end
    return a
  end,
  final = function(s) return s.n .. ":" .. table.concat(s, ";") end }
local nulls = tally.aggregate{ name = "nullcount", nulls = true, init = 0,
  step = function(s, x, y) if x == nil or y == tally.null or y == nil then return s + 1 end return s end,
  merge = function(a, b) return a + b end }
local bsum = tally.aggregate{ name = "bsum", init = 0,
  step_batch = function(s, xs, n) for i = 1, n do s = s + xs[i] end return s end,
  merge = function(a, b) return a + b end }
local score = tally.func{ name = "score", type = "float",
  fn = function(x, k) return math.floor(x) % 7 + k / 2 end }
local tag = tally.func{ name = "tag", type = "string", nulls = true,
  fn = function(g, k) return (g or "none") .. "#" .. k end }

local plans = {
  { "group_by", function(s)
      return s:group_by("k"):agg(sumsq("x"):as("q"), "t = trail(g)", "n = nullcount(g, y)",
                                 "b = bsum(x)", "c = count()")
    end, "k" },
  { "mutate+filter", function(s)
      return s:mutate("sc = score(x, k)", "tg = tag(g, k)"):filter("sc > 2 and tg != 'none#1'")
    end },
  { "filter+agg", function(s)
      return s:filter("score(x, k) < 5"):mutate("tg = tag(g, k)")
              :group_by("tg"):agg("t = trail(tg)", sumsq("x"):as("q"))
    end, "tg" },
  { "agg", function(s) return s:agg("t = trail(g)", "q = sumsq(y)", "b = bsum(x)") end },
  { "head", function(s) return s:mutate("sc = score(x, k)"):head(17) end },
}

-- The result of a plan on a scan, as a table sorted as its in-memory
-- result is (groups come in the order of first appearance in both).
local function run_scan(plan, s) return plan[2](s):collect() end
local function run_memory(plan, t)
  local r = plan[2](t)
  return r
end

local rows, files = 0, 0
for _, n in ipairs{ 0, 1, 9, 700 } do
  local path = gen(n, 1000 + n)
  local t = tally.read_csv(path, { types = types })
  for _, threads in ipairs{ 1, 3 } do
    tally.threads(threads)
    for _, plan in ipairs(plans) do
      local want = run_memory(plan, t)
      for _, mb in ipairs{ 1, 23, 4096, 0 } do
        local s = tally.scan(path, { types = types })
        same(testing.with({ morsel_bytes = mb }, run_scan, plan, s), want, string.format("%s, %d rows, morsel %d, %d threads",
                                                  plan[1], n, mb, threads))
        rows = rows + n
      end
      for _, br in ipairs{ 1, 5, 1000 } do
        local s = tally.scan(t)
        same(testing.with({ batch_rows = br }, run_scan, plan, s), want, string.format("%s on a table, %d rows, batch %d, %d threads",
                                                  plan[1], n, br, threads))
      end
    end
  end
  files = files + 1
  os.remove(path)
end

-- Where the calls run: with threads, in the workers' states (the main
-- state's counter stays 0); with parallel = false, on the calling thread.
do
  local path = gen(400, 7)
  calls = 0
  tally.func{ name = "counted", type = "float", fn = function(x) calls = calls + 1; return x end }
  tally.aggregate{ name = "acount", init = 0, merge = function(a, b) return a + b end,
                   step = function(s) acalls = (acalls or 0) + 1; return s + 1 end }
  tally.func{ name = "here", type = "float", parallel = false,
              fn = function(x) calls = calls + 1; return x end }
  tally.threads(3)
  local s = tally.scan(path, { types = types })
  testing.set{ morsel_bytes = 300 }
  local r = s:mutate("z = counted(x)"):group_by("k"):agg("n = acount(z)"):collect()
  assert(calls == 0 and acalls == nil, "the calls ran in the main state: " .. calls)
  local total = 0
  for i = 1, #r do total = total + r.n[i] end
  assert(total == 400, "acount: " .. total)
  r = s:mutate("z = here(x)"):agg("n = count(z)"):collect()
  assert(calls == 400 and r.n[1] == 400, "parallel = false: " .. calls)
  -- one thread: every call in the main state
  tally.threads(1)
  calls = 0
  r = s:mutate("z = counted(x)"):agg("n = count(z)"):collect()
  assert(calls == 400, "one thread: " .. calls)
  testing.set{ morsel_bytes = 0 }
  os.remove(path)
end

-- A scan keeps the definitions it was built with: a later tally.func of the
-- same name does not change it, even once the old one is collected.
do
  local t = tally.from_columns{ { "x", { 1, 2, 3 } } }
  tally.func{ name = "redef", type = "int", fn = function(x) return x * 10 end }
  local s = tally.scan(t):mutate("y = redef(x)")
  tally.func{ name = "redef", type = "int", fn = function(x) return -x end }
  collectgarbage(); collectgarbage()
  local r = s:collect()
  assert(r.y[1] == 10 and r.y[3] == 30, "the scan's own definition")
  assert(tally.scan(t):mutate("y = redef(x)"):collect().y[2] == -2, "the new definition")
  -- built in a coroutine, run outside it
  local co = coroutine.wrap(function() return tally.scan(t):mutate("y = redef(x)") end)
  local s2 = co()
  assert(s2:collect().y[3] == -3, "built in a coroutine")
end

-- An aggregate without a merge cannot combine the batches' states.
do
  tally.aggregate{ name = "nomerge", init = 0, step = function(s, x) return s + x end }
  local t = tally.from_columns{ { "x", { 1, 2, 3 } } }
  assert(t:agg("s = nomerge(x)").s[1] == 6)
  check_error("aggregate 'nomerge' has no merge", function()
    return tally.scan(t):agg("s = nomerge(x)"):collect()
  end)
end

-- Errors: the function and the row as in memory, and the file.
do
  local path = tmpname()
  local f = assert(io.open(path, "wb"))
  f:write("k,x\n")
  for i = 1, 300 do f:write(("k%d,%d\n"):format(i % 3, i == 250 and 7 or 1)) end
  f:close()
  tally.func{ name = "bad", type = "int",
              fn = function(x) if x == 7 then error("seven") end return x end }
  tally.aggregate{ name = "badagg", init = 0, merge = function(a, b) return a + b end,
                   step = function(s, x) if x == 7 then error("seven!") end return s + x end }
  for _, threads in ipairs{ 1, 3 } do
    tally.threads(threads)
    for _, mb in ipairs{ 1, 100, 0 } do
      local o = {}
      testing.set{ morsel_bytes = mb }
      local mem = check_error("row 250", function() return tally.read_csv(path):mutate("y = bad(x)") end)
      mem = mem:match("mutate: .*")
      local got = check_error(mem, function()
        return tally.scan(path, o):mutate("y = bad(x)"):collect()
      end)
      assert(got:find("(in " .. path .. ")", 1, true), got)
      mem = check_error("row 250", function()
        return tally.read_csv(path):group_by("k"):agg("a = badagg(x)")
      end)
      mem = mem:match("agg: .*")
      got = check_error(mem, function()
        return tally.scan(path, o):group_by("k"):agg("a = badagg(x)"):collect()
      end)
      assert(got:find("(in " .. path .. ")", 1, true), got)
      -- after a filter the rows are counted among those it kept
      got = check_error("function 'bad': row ", function()
        return tally.scan(path, o):filter("x > 0"):mutate("y = bad(x)"):collect()
      end)
      assert(got:find("rows counted among those the filters kept of " .. path, 1, true), got)
    end
  end
  os.remove(path)
end

-- The sandbox has no scans (and so no worker states for them).
do
  local script = tmpname(".lua")
  local f = assert(io.open(script, "wb"))
  f:write([[
tally.aggregate{ name = "c", init = 0, merge = function(a, b) return a + b end,
                 step = function(s, x) return s + x end }
local t = tally.from_columns{ { "x", { 1, 2 } } }
print(tally.scan(t):agg("s = c(x)"):collect())
]])
  f:close()
  local err = tmpname(".err")
  local ok = os.execute(string.format("'%s' --sandbox '%s' >/dev/null 2>'%s'", exe, script, err))
  local e = assert(io.open(err)):read("a")
  assert(not ok and e:find("scan: not allowed in the sandbox", 1, true), e)
  os.remove(script)
  os.remove(err)
end

tally.threads(0)
print(string.format("test_scan_lua: ok (%d files, %d rows scanned)", files, rows))
