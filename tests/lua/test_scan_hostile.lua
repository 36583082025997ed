-- Scans in Lua given what they do not expect: options and arguments of the
-- wrong type, options the verb would lose, a scan built in a coroutine and
-- written after the coroutine is gone, a scan closed by a Lua function of
-- its own run, and TALLY_MEMORY_LIMIT values that are not a size. Each is
-- a clean error naming the operation (or the right result), never a crash.
-- Run from the repository root: tally tests/lua/test_scan_hostile.lua

local tally = require "tally"
local testing = require "tally.testing"
local exe = assert(arg[-1], "run this script with the tally executable")
local check = require "tests.lua.scan_check"
local check_error, same = check.check_error, check.same

local dir = check.tempdir()
local function path(name) return dir .. "/" .. name end

local t = tally.from_columns{ { "a", { 1, 2, 3, 4, 5, 6 } },
                              { "b", { "x", "y", "z", "x", "y", "q" } } }
t:write_csv(path("a.csv"))
t:write_parquet(path("a.parquet"))

-- Options that are not a table (lua_next on them read a string or a number
-- as a table).
for _, o in ipairs{ "sep", 5, true, false, print } do
  check_error("scan: options must be a table, got " .. type(o), tally.scan, path("a.csv"), o)
  check_error("scan: options must be a table, got " .. type(o), tally.scan, t, o)
end

-- Strings that are missing or not strings: an argument error, never a NULL
-- path or expression handed to the core.
local s = tally.scan(t)
check_error("bad argument #1 to 'filter' (string expected, got no value)", function() return s:filter() end)
check_error("bad argument #1 to 'filter' (string expected, got table)", function() return s:filter({}) end)
check_error("(string expected, got tally.Column)", function() return s:filter(t.a:gt(2)) end)
check_error("bad argument #1 to 'write_csv' (string expected, got no value)", function() s:write_csv() end)
check_error("bad argument #1 to 'write_parquet' (string expected, got boolean)", function() s:write_parquet(true) end)
check_error("bad argument #1 to 'write_arrow' (string expected, got nil)", function() s:write_arrow(nil, {}) end)
check_error("filter: expression contains a NUL byte", s.filter, s, "a > 1\0junk")
-- a verb's errors name it, as the table's do
check_error("select: duplicate column name 'a'", function() return s:select("a", "a") end)
-- write_csv of a scan takes no options: t:write_csv's would be lost
check_error("write_csv: unknown option 'sep' (write_csv takes no options)",
            function() s:write_csv(path("o.csv"), { sep = ";" }) end)
check_error("write_csv: options must be a table, got string",
            function() s:write_csv(path("o.csv"), ";") end)
assert(not io.open(path("o.csv")), "no file is written")
s:write_csv(path("o.csv"), {})
same(tally.read_csv(path("o.csv")), t, "write_csv with no options")

-- A scan built in a coroutine calls its Lua functions in the state that
-- runs it: the coroutine may be gone (collected) by then. Every writer
-- binds them as collect does.
tally.threads(1)
local in_main
tally.func{ name = "where_am_i", type = "int", parallel = false, fn = function(x)
  in_main = select(2, coroutine.running())
  return x * 2
end }
local want = t:mutate("c = where_am_i(a)")
for _, w in ipairs{ "collect", "write_csv", "write_parquet", "write_arrow" } do
  local co = coroutine.create(function() return tally.scan(t):mutate("c = where_am_i(a)") end)
  local _, sc = assert(coroutine.resume(co))
  co = nil
  collectgarbage()
  collectgarbage()
  in_main = nil
  local out = path("out." .. w)
  local got
  if w == "collect" then got = sc:collect()
  else
    sc[w](sc, out)
    got = w == "write_csv" and tally.read_csv(out) or w == "write_parquet" and tally.read_parquet(out)
          or tally.read_arrow(out)
  end
  assert(in_main == true, w .. ": the function ran outside the calling state")
  same(got, want, w .. " of a scan built in a coroutine")
end
tally.threads(0)

-- A scan closed by a Lua function of its own run: the run ends with its
-- plan intact, and the scan is closed afterwards.
for _, threads in ipairs{ 1, 3 } do
  tally.threads(threads)
  local victim
  tally.func{ name = "closer", type = "int", parallel = false, fn = function(x)
    if victim then
      local mt = getmetatable(victim)
      mt.__close(victim)
      mt.__gc(victim)
      victim = nil
      collectgarbage()
    end
    return x + 1
  end }
  for _, run in ipairs{
    { "collect", function(sc) return sc:collect() end },
    { "write_parquet", function(sc) sc:write_parquet(path("c.parquet")); return tally.read_parquet(path("c.parquet")) end },
    { "write_csv", function(sc) sc:write_csv(path("c.csv")); return tally.read_csv(path("c.csv")) end },
  } do
    local sc = tally.scan(t):mutate("c = closer(a)")
    victim = sc
    same(testing.with({ batch_rows = 1 }, run[2], sc), t:mutate("c = a + 1"),
         run[1] .. " of a scan closed by its run, " .. threads .. " threads")
    check_error("scan: the scan is closed", sc.collect, sc)
    local g = tally.scan(t):mutate("c = closer(a)"):group_by("b")
    victim = nil
    sc = g:agg("n = sum(c)")
    victim = sc
    same(testing.with({ batch_rows = 1 }, sc.collect, sc), t:group_by("b"):agg("n = sum(a + 1)"),
         "agg of a scan closed by its run")
    assert(tostring(sc) == "tally.Scan (closed)")
  end
  -- its own scan run again from inside the run
  local again
  tally.func{ name = "again", type = "int", parallel = false, fn = function(x)
    if again then local sc = again; again = nil; return #sc:collect() end
    return x
  end }
  local sc = tally.scan(t):mutate("c = again(a)")
  again = sc
  local r = sc:collect()
  assert(r.c[1] == #t and r.c[2] == 2, "a run inside its own run")
end
tally.threads(0)

-- TALLY_MEMORY_LIMIT: a size, or an error when tally loads; never "none"
-- for a value that is not a number.
local function limit_of(value)
  local out = path("limit.out")
  local ok = os.execute(string.format(
    "TALLY_MEMORY_LIMIT='%s' '%s' -e 'print((tally.memory_limit()))' >'%s' 2>&1", value, exe, out))
  local f = assert(io.open(out))
  local text = f:read("a")
  f:close()
  return ok, text
end
for value, bytes in pairs{ ["1GB"] = 1000000000, ["512MiB"] = 536870912, ["0"] = 0,
                           [" 2 kb"] = 2000, ["1.5KiB"] = 1536, ["100"] = 100 } do
  local ok, text = limit_of(value)
  assert(ok and tonumber(text) == bytes, value .. ": " .. text)
end
for _, value in ipairs{ "GB", " ", "KiB", "0.1", "-1", "1 GBs", "nan", "inf", "1e30", "lots" } do
  local ok, text = limit_of(value)
  assert(not ok and text:find("TALLY_MEMORY_LIMIT: cannot read '" .. value .. "'", 1, true),
         value .. ": " .. text)
end

-- write_csv to a link to /dev/full: the write fails with a clear error, the
-- run stops there, and what is removed on error is never the link (nor, as
-- root, /dev/full itself); t:write_csv's error is the same
assert(os.execute("ln -s /dev/full '" .. path("full") .. "'"))
local big = tally.from_columns{ { "a", (function()
  local v = {}
  for i = 1, 200000 do v[i] = i end
  return v
end)() } }
big:write_csv(path("big.csv"))
local bs = tally.scan(path("big.csv"))
for what, run in pairs{
  ["scan"] = function() return bs:write_csv(path("full")) end,
  ["scan:sort"] = function() return bs:sort("-a"):write_csv(path("full")) end,
  ["scan:filter"] = function() return bs:filter("a % 2 == 0"):write_csv(path("full")) end,
  ["table"] = function() return big:write_csv(path("full")) end } do
  check_error("write_csv: cannot write '" .. path("full") .. "': No space left on device", run)
  local f = io.open(path("full"), "rb")
  assert(f, what .. ": the link to /dev/full was removed")
  f:close()
end
assert(io.popen("readlink '" .. path("full") .. "'"):read("l") == "/dev/full")

os.execute("rm -rf '" .. dir .. "'")
print("test_scan_hostile: ok")
