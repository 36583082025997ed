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
-- how.stdin: a file for standard input; how.env: assignments before the
-- command; how.args: words after the options instead of the script.
local function run(opts, code, how)
  how = how or {}
  local script, out, err = os.tmpname(), os.tmpname(), os.tmpname()
  local f = assert(io.open(script, "wb"))
  f:write(code)
  f:close()
  local ok, kind, status = os.execute(string.format("%s %s %s %s <%s >%s 2>%s",
    how.env or "", quote(exe), opts, how.args or quote(script), quote(how.stdin or "/dev/null"),
    quote(out), quote(err)))
  os.remove(script)
  assert(kind == "exit", "killed by a signal: " .. code)
  return slurp(out), slurp(err), ok and 0 or status
end

local count = 0

-- The script must fail with `want` in its error, and exit 1. A memory test
-- gets time enough to reach its limit on a slow build (sanitizers, a loaded
-- machine) before the default 10 s time limit would stop it first.
local function blocked(code, want, opts, how)
  opts = opts or "--sandbox"
  if opts:find("--memory", 1, true) and not opts:find("--time", 1, true) then
    opts = opts .. " --time 300"
  end
  local out, err, status = run(opts, code, how)
  assert(status == 1, string.format("%s\nexit %s, want 1\n%s%s", code, status, out, err))
  assert(err:find(want, 1, true), string.format("%s\nstderr %q\nwant %q", code, err, want))
  count = count + 1
end

-- The script must run and print `want`.
local function allowed(code, want, opts, how)
  local out, err, status = run(opts or "--sandbox", code, how)
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
blocked("tally.from_columns{ {'a', {1}} }:write_html('/tmp/x.html')",
        "write_html: not allowed in the sandbox")
blocked("tally.from_columns{ {'a', {1}} }.a:hist{ file = '/tmp/x.svg' }",
        "hist: not allowed in the sandbox")
blocked("tally.report('x'):write('/tmp/x.html')", "report: not allowed in the sandbox")
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

-- bytecode: refused at every entry into the sandbox, whoever compiled it;
-- outside the sandbox it is trusted code and runs
do
  local luac = io.popen("command -v luac5.4"):read("l")
  assert(luac, "luac5.4 is missing: it is in Debian's lua5.4 package, among .ci/run's")
  local src, fromluac = os.tmpname(), os.tmpname()
  local f = assert(io.open(src, "w"))
  f:write("print('escaped')\n")
  f:close()
  assert(os.execute(string.format("%s -o %s %s", luac, quote(fromluac), quote(src))))
  os.remove(src)
  local h = assert(io.open(fromluac, "rb"))
  local luacchunk = h:read("a")
  h:close()
  -- made here, by the unsandboxed tally running this test
  local dumped = string.dump(function() print("escaped") end)
  local binary = "attempt to load a binary chunk (mode is 't')"
  local bin = os.tmpname()
  for _, chunk in ipairs{ luacchunk, dumped, "#!/usr/bin/env tally\n" .. dumped } do
    local g = assert(io.open(bin, "wb"))
    g:write(chunk)
    g:close()
    blocked(chunk, binary)                                     -- the script file
    -- (from stdin Lua reads a '#' line as text, and the bytes after it too)
    local fromstdin = chunk:sub(1, 1) == "#" and "unexpected symbol" or "stdin: " .. binary
    blocked("", fromstdin, "--sandbox", { stdin = bin, args = "-" })
    blocked("", fromstdin, "--memory 64M", { stdin = bin, args = "" })
    allowed(chunk, "escaped\n", "")                            -- trusted outside
    if chunk:sub(1, 1) ~= "#" then                             -- load skips no '#' line
      local q = string.format("%q", chunk)
      blocked("assert(load(" .. q .. "))", binary)
      blocked("assert(load(" .. q .. ", 'k', 'b'))", binary)
      blocked("local s = " .. q .. " assert(load(function() local c = s s = nil return c end))",
              binary)
    end
  end
  os.remove(bin)
  -- the file named after the script's options: no bytecode in it either
  blocked("", binary, "--sandbox", { args = quote(fromluac) .. " x y" })
  -- -e, and a line of the REPL (the bytes up to the first NUL)
  blocked("", "(command line): " .. binary, "--sandbox", { args = "-e " .. quote("\27Lua\x54") })
  local out, err = run("--sandbox", "", { args = "-i", stdin = fromluac })
  assert(not out:find("escaped") and err:find("stdin: " .. binary, 1, true), err)
  count = count + 1
  -- TALLY_INIT does not run in the sandbox, text or bytecode
  allowed("print('script')", "script\n", "--sandbox", { env = "TALLY_INIT=@" .. quote(fromluac) })
  allowed("print('script')", "escaped\nscript\n", "", { env = "TALLY_INIT=@" .. quote(fromluac) })
  -- require and -l: only the libraries already loaded, never a file
  blocked("require('escaped')", "module 'escaped' is not available", "--sandbox")
  blocked("", "module 'escaped' is not available", "--sandbox", { args = "-l escaped" })
  os.remove(fromluac)
end

-- every function that opens a path, or reaches memory by address, refuses
local t1 = "local t = tally.from_columns{ {'a', {1}} } "
for _, case in ipairs{
  { "tally.read_csv('/etc/passwd')", "read_csv" },
  { "tally.read_csv_string('a\\n1\\n')", "read_csv_string" },
  { "tally.read_json('/etc/passwd')", "read_json" },
  { "tally.read_ndjson('/etc/passwd')", "read_ndjson" },
  { "tally.read_document('/etc/passwd')", "read_document" },
  { "tally.read_document{ text = 'x' }", "read_document" },
  { "tally.load('/tmp/x.tally')", "load" },
  { "tally.read_arrow('/tmp/x.arrow')", "read_arrow" },
  { "tally.from_arrow(1, 2)", "from_arrow" },
  { "tally.func{ name = 'f', fn = function(x) return x end }", "func" },
  { t1 .. "t:write_csv('/tmp/x.csv')", "write_csv" },
  { t1 .. "t:write_json('/tmp/x.json')", "write_json" },
  { t1 .. "t:write_ndjson('/tmp/x.ndjson')", "write_ndjson" },
  { t1 .. "t:save('/tmp/x.tally')", "save" },
  { t1 .. "t:plot{ x = 'a', y = 'a', file = '/tmp/x.svg' }", "plot" },
  { t1 .. "t:to_arrow()", "to_arrow" },
  { t1 .. "t:write_arrow('/tmp/x.arrow')", "write_arrow" },
} do
  blocked(case[1], case[2] .. ": not allowed in the sandbox")
end
for _, name in ipairs{ "open", "popen", "lines", "input", "output", "read", "write", "tmpfile" } do
  blocked("io." .. name .. "('/etc/passwd')", "global 'io'")
end
for _, name in ipairs{ "execute", "remove", "rename", "tmpname", "getenv", "exit", "setlocale" } do
  blocked("os." .. name .. "('/tmp/x')", "field '" .. name .. "'")
end

-- the core's allocations (pivot, join, sort, concat, strings in
-- expressions, grouping, copies from Lua) count against --memory: each
-- stops with the limit's error, neither succeeding nor crashing
local input = [[
local n = 100000
local x, s = {}, {}
for i = 1, n do x[i] = (i * 7919) % n; s[i] = 'value ' .. i end
local t = tally.from_columns{ {'x', x}, {'s', s} }
x, s = nil, nil
collectgarbage()
]]
for _, op in ipairs{
  "t:sort('-x')", "t:sort('s')", "t:concat(t, t)", "t:mutate('u = upper(s) .. s .. s')",
  "t:mutate('u = s .. \"-\" .. s')", "t:group_by('x'):agg('n = count()', 'm = min(s)')",
  "t:filter('x > 0')", "t:distinct('s')", "t:join(t, { on = 'x' })",
  "tally.from_columns{ {'a', { string.rep('y', 100000) }} }",
} do
  blocked(input .. "local keep = {}\nfor i = 1, 2000 do keep[i] = " .. op .. " end\nprint('kept')",
          "memory limit of 32 MiB exceeded", "--memory 32M --time 60")
end
-- one operation far over the limit
blocked([[local id, name, v = {}, {}, {}
for i = 1, 4000 do id[i], name[i], v[i] = i, 'c' .. i, i end
local t = tally.from_columns{ {'id', id}, {'name', name}, {'v', v} }
print(#t:pivot_wider{ names_from = 'name', values_from = 'v' })]],
        "memory limit of 32 MiB exceeded", "--memory 32M")
blocked([[local k = {}
for i = 1, 3000 do k[i] = 1 end
local t = tally.from_columns{ {'k', k}, {'v', k} }
print(#t:join(t, { on = 'k' }))]], "memory limit of 32 MiB exceeded", "--memory 32M")
blocked([[local big, s = string.rep('z', 1000), {}
for i = 1, 10000 do s[i] = big end
local t = tally.from_columns{ {'s', s} }
print(#t:mutate('u = upper(s) .. s .. s .. s'))]], "memory limit of 32 MiB exceeded", "--memory 32M")
blocked([[local big, s = string.rep('z', 1000), {}
for i = 1, 40000 do s[i] = big end
print(#tally.from_columns{ {'s', s} })]], "memory limit of 32 MiB exceeded", "--memory 32M")

-- Ctrl-C: SIGINT once the script printed "ready"; a script that catches
-- "interrupted!" with pcall still runs under every limit
local function interrupted(opts, code)
  local script, out, err, st = os.tmpname(), os.tmpname(), os.tmpname(), os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(code)
  f:close()
  local sh = string.format([[
%s %s %s </dev/null >%s 2>%s &
pid=$!
n=0
until grep -q '^ready$' %s; do
  n=$((n + 1))
  if [ $n -gt 1200 ]; then kill -KILL $pid; break; fi
  sleep 0.05
done
kill -INT $pid
wait $pid
echo $? >%s]], quote(exe), opts, quote(script), quote(out), quote(err), quote(out), quote(st))
  assert(os.execute("sh -c " .. quote(sh)))
  os.remove(script)
  local o, e, status = slurp(out), slurp(err), tonumber(slurp(st))
  assert(o:find("caught\tinterrupted!", 1, true), o .. e)
  assert(status == 1 and not o:find("after"), string.format("exit %d\n%s%s", status, o, e))
  count = count + 1
  return o, e
end
do
  -- the memory limit: the allocation fails, and the error escapes pcall
  local o, e = interrupted("--memory 64M --time 60", [[
print("ready")
local ok, e = pcall(function() while true do end end)
print("caught", e)
print(pcall(function() return #string.rep("x", 1 << 30) end))
for i = 1, 1e7 do end
print("after")]])
  assert(not o:find("true") and e:find("memory limit of 64 MiB exceeded", 1, true), o .. e)
  -- the instruction limit (the wait spends few instructions: a string
  -- function in a loop)
  local wait = [[
print("ready")
local ok, e = pcall(function()
  local s = string.rep("x", 1 << 20)
  while true do s = s:upper():lower() end
end)
print("caught", e)
]]
  o, e = interrupted("--instructions 10000000 --time 60",
                     wait .. "pcall(function() while true do end end)\nprint('after')")
  assert(e:find("instruction limit of 10000000 exceeded", 1, true), o .. e)
  -- the time limit, raised by the hook (with a traceback), not by the
  -- watchdog that ends the process a second after it
  o, e = interrupted("--time 10", wait .. "pcall(function() while true do end end)\nprint('after')")
  assert(e:find("time limit of 10 s exceeded", 1, true) and e:find("stack traceback"), o .. e)
end

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
