-- The progress bar of a long scan: drawn on stderr when it is a terminal
-- (a pseudo-terminal made by script(1)), never when stderr is a file or a
-- pipe unless asked for; progress = false keeps it off on a terminal.
-- Run from the repository root: tally tests/lua/test_scan_progress.lua

local exe = assert(arg[-1], "run this script with the tally executable")

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local function slurp(p) local f = assert(io.open(p, "rb")); local s = f:read("a"); f:close(); return s end

-- A CSV, and a script whose scan runs about two seconds: a Lua function
-- that waits a little on each row, over many small morsels.
local csv = os.tmpname()
local f = assert(io.open(csv, "wb"))
f:write("x\n")
for i = 1, 400 do f:write(i, "\n") end
f:close()

local function script_for(opts)
  local p = os.tmpname()
  local g = assert(io.open(p, "wb"))
  g:write(string.format([[
tally.threads(1)
tally.func{ name = "slow", type = "int", fn = function(x)
  local t = tally.clock() + 0.005
  while tally.clock() < t do end
  return x
end }
require("tally.testing").set{ morsel_bytes = 64 }
local r = tally.scan(%q, { %s }):mutate("y = slow(x)"):agg("s = sum(y)"):collect()
io.stdout:write("sum ", r.s[1], "\n")
]], csv, opts))
  g:close()
  return p
end

-- Runs the script under a pseudo-terminal: stdout and stderr both land in `out`.
local function on_terminal(opts)
  local s, out = script_for(opts), os.tmpname()
  local cmd = string.format("script -qec %s /dev/null >%s 2>&1 </dev/null",
                            quote(quote(exe) .. " " .. quote(s)), quote(out))
  assert(os.execute(cmd), "script(1) failed: " .. cmd)
  os.remove(s)
  local text = slurp(out)
  os.remove(out)
  return text
end

-- Runs it with stderr a file (stdout too).
local function off_terminal(opts)
  local s, out, err = script_for(opts), os.tmpname(), os.tmpname()
  assert(os.execute(string.format("%s %s >%s 2>%s </dev/null", quote(exe), quote(s), quote(out),
                                  quote(err))))
  os.remove(s)
  local o, e = slurp(out), slurp(err)
  os.remove(out)
  os.remove(err)
  return o, e
end

local want = "sum 80200"

local text = on_terminal("")
assert(text:find(want, 1, true), text)
assert(text:find("\rscan [", 1, true) and text:find("%", 1, true), "no bar on a terminal: " .. text)
assert(text:find("MB", 1, true), text)
assert(text:find("\r\27[K", 1, true), "the bar is not erased: " .. text)

text = on_terminal("progress = false")
assert(text:find(want, 1, true), text)
assert(not text:find("scan [", 1, true), "a bar with progress = false: " .. text)

local o, e = off_terminal("")
assert(o == want .. "\n", o)
assert(e == "", "stderr not a terminal, yet: " .. e)

o, e = off_terminal("progress = true")
assert(o == want .. "\n", o)
assert(e:find("\rscan [", 1, true), "progress = true draws on a file: " .. e)

os.remove(csv)
print("test_scan_progress: ok")
