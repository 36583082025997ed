-- tally --sandbox: each way out of the sandbox, and each limit, on a small
-- script run by the tally executable under test (arg[-1]). A way out must
-- fail with the expected error (exit status 1), a limit must stop the
-- script with an error naming it, and what a sandbox keeps must still work.
-- Run from the repository root: tally tests/lua/test_sandbox.lua

local exe = assert(arg[-1], "run this script with the tally executable")

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function slurp(p)
  local h = assert(io.open(p, "rb"))
  local s = h:read("a")
  h:close()
  os.remove(p)
  return s
end

-- Runs `code` as a script with the options; returns stdout, stderr, status.
local function run(opts, code)
  local script, out, err = os.tmpname(), os.tmpname(), os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(code)
  f:close()
  local ok, how, status = os.execute(string.format("%s %s %s </dev/null >%s 2>%s",
    quote(exe), opts, quote(script), quote(out), quote(err)))
  os.remove(script)
  assert(how == "exit", "killed by a signal: " .. code)
  return slurp(out), slurp(err), ok and 0 or status
end

local count = 0

-- The script must fail with `want` in its error, and exit 1.
local function blocked(code, want, opts)
  local out, err, status = run(opts or "--sandbox", code)
  assert(status == 1, string.format("%s\nexit %s, want 1\n%s%s", code, status, out, err))
  assert(err:find(want, 1, true), string.format("%s\nstderr %q\nwant %q", code, err, want))
  count = count + 1
end

-- The script must run and print `want`.
local function allowed(code, want, opts)
  local out, err, status = run(opts or "--sandbox", code)
  assert(status == 0, string.format("%s\nexit %s\n%s", code, status, err))
  assert(out == want, string.format("%s\nstdout %q\nwant %q", code, out, want))
  count = count + 1
end

-- Lua aggregates stay in the sandbox's state: no worker states (which would
-- have every library and none of the limits), even with a merge and threads
allowed([[
tally.threads(2)
local calls = 0
tally.aggregate{ name = "c", init = 0, merge = function(a, b) return a + b end,
                 step = function(s, x) calls = calls + 1; return s + x end }
local v = {}
for i = 1, 200000 do v[i] = i end
local r = tally.from_columns{ { "x", v } }:agg("s = c(x)")
print(calls, math.tointeger(r.s[1]))
]], "200000\t20000100000\n")

-- libraries that are gone
blocked("io.open('/etc/passwd')", "global 'io'")
blocked("io.popen('id')", "global 'io'")
blocked("os.execute('id')", "field 'execute'")
blocked("os.getenv('HOME')", "field 'getenv'")
blocked("os.remove('/tmp/x')", "field 'remove'")
blocked("os.exit(0)", "field 'exit'")
blocked("debug.sethook()", "global 'debug'")
blocked("debug.getregistry()", "global 'debug'")
blocked("package.loadlib('libc.so.6', 'system')", "global 'package'")
blocked("dofile('/etc/passwd')", "global 'dofile'")
blocked("loadfile('/etc/passwd')", "global 'loadfile'")
blocked("string.dump(print)", "field 'dump'")
blocked("('').dump(print)", "field 'dump'")
-- require: the loaded libraries only
blocked("require 'io'", "require: module 'io' is not available in the sandbox")
blocked("require 'debug'", "module 'debug' is not available")
blocked("require 'lfs'", "module 'lfs' is not available")
blocked("require 'tally.core'", "module 'tally.core' is not available")
allowed("print(require 'tally' == tally, require 'string' == string)", "true\ttrue\n")
-- binary chunks
blocked("assert(load('\\27Lua\\x54\\0'))", "attempt to load a binary chunk (mode is 't')")
blocked("assert(load('\\27Lua', 'x', 'b'))", "attempt to load a binary chunk (mode is 't')")
allowed("print(load('return 6 * 7')(), load('return x', 'c', 'bt', { x = 5 })())", "42\t5\n")
-- metatables
blocked("getmetatable('').__index.upper = nil", "attempt to index a boolean value")
allowed("print(getmetatable(''), ('x'):upper())", "false\tX\n")
blocked("setmetatable({}, { __gc = function() while true do end end })",
        "__gc is not allowed in the sandbox")
blocked([[local t = tally.from_columns{ {'a', {1}} }
getmetatable(t).__gc = function() while true do end end]], "attempt to index a boolean value")
blocked("collectgarbage('stop')", "bad argument #1 to 'collectgarbage'")
allowed("print(type(collectgarbage('count')), collectgarbage())", "number\t0\n")
-- files through the module
blocked("tally.read_csv('/etc/passwd')", "read_csv: not allowed in the sandbox")
blocked("tally.load('/tmp/x.tally')", "load: not allowed in the sandbox")
blocked("tally.from_columns{ {'a', {1}} }:write_csv('/tmp/x.csv')",
        "write_csv: not allowed in the sandbox")
blocked("tally.read_json('/etc/passwd')", "read_json: not allowed in the sandbox")
blocked("tally.read_document('/etc/passwd')", "read_document: not allowed in the sandbox")
blocked("tally.from_arrow(1, 2)", "from_arrow: not allowed in the sandbox")
blocked("tally.from_columns{ {'a', {1}} }:save('/tmp/x.tally')", "save: not allowed in the sandbox")
blocked("tally.from_columns{ {'a', {1}} }:plot{ x = 'a', y = 'a', file = '/tmp/x.svg' }",
        "plot: not allowed in the sandbox")
-- what stays
allowed([[print(type(os.time()), type(os.clock()), os.date('!%Y', 0))
local t = tally.from_columns{ {'g', {'x', 'y', 'x'}}, {'v', {1, 2, 3}} }
local s = t:group_by('g'):agg('s = sum(v)')
print(#s, s.s[1], s.s[2], t:filter('v > 1'):ncol(), coroutine.wrap(function() return 1 end)())]],
        "number\tnumber\t1970\n2\t4\t2\t2\t1\n")

-- memory: Lua's allocations, the core's, and pcall does not swallow it
local mem = "memory limit of 32 MiB exceeded (--memory raises it)"
blocked("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 100) .. i end", mem,
        "--sandbox --memory 32M")
blocked("local s = string.rep('x', 1 << 30)", mem, "--memory 32M")
blocked([[local c = {} for i = 1, 100000 do c[i] = i end
local t, keep = tally.from_columns{ {'a', c} }, {}
for k = 1, 1000 do keep[k] = t:mutate('b = a * ' .. k) end]], mem, "--memory=32M")
blocked([[while true do pcall(function() local t = {} for i = 1, 1e9 do t[i] = {} end end) end]],
        mem, "--memory 32M")
blocked([[local c = {} for i = 1, 100000 do c[i] = i end
local t, keep = tally.from_columns{ {'a', c} }, {}
while true do pcall(function() keep[#keep + 1] = t:mutate('b = a * 2') end) end]], mem,
        "--memory 32M")

-- time: the VM's loops, pcall, coroutines, and a C function (the watchdog)
local tm = "time limit of 1 s exceeded (--time raises it)"
blocked("while true do end", tm, "--time 1")
blocked("while true do pcall(function() while true do end end) end", tm, "--time 1")
blocked("local f = coroutine.wrap(function() while true do coroutine.yield() end end)\n"
        .. "while true do pcall(f) end", tm, "--time 1")
blocked("local function f() return f() end f()", tm, "--time=1")
blocked("string.find(string.rep('a', 40), string.rep('a?', 40) .. string.rep('a', 40) .. 'b')",
        tm, "--time 1")

-- instructions
blocked("for i = 1, 1e9 do end", "instruction limit of 100000 exceeded (--instructions raises it)",
        "--instructions 100000")
allowed("local n = 0 for i = 1, 1000 do n = n + i end print(n)", "500500\n", "--instructions 100000")

-- options
do
  local _, err, status = run("--memory lots", "print(1)")
  assert(status == 2 and err:find("bad value 'lots' for '--memory'", 1, true), err)
  _, err, status = run("--time", "")
  assert(status == 2, err)
  allowed("print(1)", "1\n", "--sandbox --memory 0 --time 0")
  local out = run("-h", "")
  assert(out:find("--sandbox", 1, true), out)
  count = count + 4
end

print(string.format("sandbox: %d checks passed", count))
