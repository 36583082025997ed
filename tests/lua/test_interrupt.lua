-- One SIGINT stops a script whose Lua code never returns, wherever that code
-- runs: on the calling thread, or in the Lua states of the worker threads
-- (a tally.func in mutate and filter, a Lua aggregate's step). The script
-- exits 1 with "interrupted" in its message.
-- Run from the repository root: tally tests/lua/test_interrupt.lua

local exe = assert(arg[-1], "run this script with the tally executable")

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function slurp(p)
  local h = assert(io.open(p, "rb"))
  local s = h:read("a")
  h:close()
  return s
end

-- The script: a 200,000-row table on two threads, then `body`, whose Lua
-- code creates the file named by arg[1] once it runs and then loops forever.
local prelude = [[
local marker = ...
local function started() local f = io.open(marker, "w") f:close() end
local function forever() started() while true do end end
tally.threads(2)
local v = {}
for i = 1, 200000 do v[i] = i end
local w = tally.from_columns{ {"x", v} }
]]

-- Runs the script, sends one SIGINT once the marker exists, and returns the
-- exit code and stderr. A process that outlives the signal is killed after a
-- minute by a watchdog, which makes the code 137 (the test fails, it does not
-- hang).
local function interrupt(body)
  local script, marker, err = os.tmpname(), os.tmpname(), os.tmpname()
  os.remove(marker)
  local f = assert(io.open(script, "w"))
  f:write(prelude, body, "\nprint('not reached')\n")
  f:close()
  local sh = string.format([[
%s %s %s >/dev/null 2>%s & pid=$!
n=0
while [ ! -e %s ] && [ $n -lt 6000 ]; do sleep 0.01; n=$((n + 1)); done
kill -INT $pid
( sleep 60; kill -KILL $pid ) >/dev/null 2>&1 </dev/null & dog=$!
wait $pid; code=$?
kill $dog 2>/dev/null
exit $code]], quote(exe), quote(script), quote(marker), quote(err), quote(marker))
  local ok, how, code = os.execute(sh)
  assert(how == "exit", "the shell was killed by a signal")
  local e = slurp(err)
  os.remove(script)
  os.remove(marker)
  os.remove(err)
  return ok and 0 or code, e
end

local function check(what, body)
  local code, err = interrupt(body)
  assert(code == 1, string.format("%s: exit %s, want 1\n%s", what, code, err))
  assert(err:find("interrupted", 1, true), string.format("%s: stderr %q", what, err))
  assert(not err:find("not reached", 1, true), err)
end

-- on the calling thread
check("a loop in the script", "forever()")
check("a serial tally.func", [[
tally.func{ name = "f", type = "int", parallel = false, fn = function(x) forever() end }
w:mutate("y = f(x)")]])
-- on the worker threads
check("tally.func in mutate", [[
tally.func{ name = "f", type = "int", fn = function(x) forever() end }
w:mutate("y = f(x)")]])
check("tally.func in filter", [[
tally.func{ name = "f", type = "bool", fn = function(x) forever() end }
w:filter("f(x)")]])
check("an aggregate's step", [[
tally.aggregate{ name = "g", init = 0, merge = function(a, b) return a + b end,
                 step = function(s, x) forever() end }
w:agg("s = g(x)")]])
check("an aggregate's step by group", [[
tally.aggregate{ name = "g", init = 0, merge = function(a, b) return a + b end,
                 step = function(s, x) forever() end }
w:mutate("k = x % 7"):group_by("k"):agg("s = g(x)")]])

-- Loops in C over Lua arrays and over the rows of a table see a standing
-- interrupt too (the Lua hook does not run inside them): once the script
-- has caught "interrupted!", the interrupt still stands, and each of these
-- stops with "<op>: interrupted" instead of running to the end.
local code, err = interrupt([[
local ok, e = pcall(forever)
assert(not ok and e:find("interrupted", 1, true), e)
local rows = {}
for i = 1, 200000 do rows[i] = { x = i } end
local function stops(op, f, ...)
  local ok, e = pcall(f, ...)
  if ok or not tostring(e):find(op .. ": interrupted", 1, true) then
    io.stderr:write("not reached: ", op, " gave ", tostring(e), "\n")
    os.exit(0)
  end
end
stops("from_rows", tally.from_rows, rows)
stops("totable", w.totable, w)
stops("totable", w.x.totable, w.x)
tally.from_columns{ {"x", v} }]])
assert(code == 1, string.format("from_columns: exit %s, want 1\n%s", code, err))
assert(err:find("from_columns: interrupted", 1, true), string.format("stderr %q", err))
assert(not err:find("not reached", 1, true), err)

print("test_interrupt: ok")
