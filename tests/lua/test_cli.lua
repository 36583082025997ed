-- The tally executable: options, arg, exit codes, errors, the REPL on a pipe.
-- Run from the repository root: tally tests/lua/test_cli.lua
-- The executable under test is the one running this script (arg[-1]).

local exe = assert(arg[-1], "run this script with the tally executable")

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Runs the command line (a shell string after the executable) with `input`
-- on stdin; returns stdout, stderr and the exit code.
local function run(args, input)
  local inp, out, err = os.tmpname(), os.tmpname(), os.tmpname()
  local f = assert(io.open(inp, "w"))
  f:write(input or "")
  f:close()
  local ok, how, code = os.execute(string.format("%s %s <%s >%s 2>%s", quote(exe), args,
                                                 quote(inp), quote(out), quote(err)))
  local function slurp(p)
    local h = assert(io.open(p, "rb"))
    local s = h:read("a")
    h:close()
    os.remove(p)
    return s
  end
  os.remove(inp)
  assert(how == "exit", "killed by a signal")
  return slurp(out), slurp(err), ok and 0 or code
end

local function check(args, input, want_out, want_err, want_code)
  local out, err, code = run(args, input)
  assert(code == want_code, string.format("%s: exit %s, want %s\n%s", args, code, want_code, err))
  if want_out then
    assert(out == want_out, string.format("%s: stdout\n%q\nwant\n%q", args, out, want_out))
  end
  if want_err then
    assert(err:find(want_err, 1, true), string.format("%s: stderr %q, want %q", args, err, want_err))
  end
  return out, err
end

-- version and help
local out = check("-v", nil, nil, nil, 0)
assert(out:match("^tally 0%.2%.0 %(Lua 5%.4%.%d+%)\n$"), out)
out = check("--version", nil, nil, nil, 0)
assert(out:match("^tally 0%.2%.0 "))
out = check("-h", nil, nil, nil, 0)
assert(out:find("usage: tally [options] [script [args]]", 1, true))
assert(out:find("-e stat", 1, true))
check("--help", nil, nil, nil, 0)

-- -e, several in order; tally is a global and require "tally" gives it back
check([[-e 'print(1 + 1)' -e 'print(tally.version, require("tally") == tally)']], nil,
      "2\n0.2.0\ttrue\n", nil, 0)
check([[-e 'local t = tally.read_csv("data/jica_training.csv") print(#t, t.participants:sum())']],
      nil, "40\t446\n", nil, 0)
-- -l mod and -l g=mod
check([[-l tl=tally -e 'print(tl == tally)']], nil, "true\n", nil, 0)
check([[-l string -e 'print(type(string))']], nil, "table\n", nil, 0)

-- scripts: arg as in lua(1), and ... holds the arguments
do
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write([[print(arg[0] == ..., #arg, arg[1], arg[2], select("#", ...), ...)
print(arg[-1], arg[-2] ~= nil, arg[-3])
]])
  f:close()
  local o = check("-E " .. quote(path) .. " one two", nil, nil, nil, 0)
  local line1, line2 = o:match("^(.-)\n(.-)\n$")
  assert(line1 == "false\t2\tone\ttwo\t2\tone\ttwo", line1)
  assert(line2 == "-E\ttrue\tnil", line2)
  os.remove(path)
end

-- stdin: "-" and no arguments on a pipe
check("- a b", 'print("stdin", ...)', "stdin\ta\tb\n", nil, 0)
check("", "print(6 * 7)", "42\n", nil, 0)

-- errors: "tally: message", a traceback for run-time errors, exit 1
do
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write('local t = tally.read_csv("data/no_such_file.csv")\n')
  f:close()
  local _, err = check(quote(path), nil, "", "tally: ", 1)
  assert(err:find("read_csv: ", 1, true) and err:find("no_such_file.csv", 1, true), err)
  assert(err:find("stack traceback:", 1, true), err)
  os.remove(path)
end
check([[-e 'x = = 1']], nil, "", "tally: (command line):1: unexpected symbol near '='", 1)
check([[-e 'error({})']], nil, "", "tally: (error object is a table value)", 1)
check("/no/such/script.lua", nil, "", "tally: cannot open /no/such/script.lua", 1)
check([[-e 'error(setmetatable({}, {__tostring = function() return "custom" end}))']],
      nil, "", "tally: custom", 1)

-- usage errors exit 2
check("-x", nil, "", "tally: unrecognized option '-x'", 2)
check("-e", nil, "", "tally: '-e' needs an argument", 2)
check("-l", nil, "", "tally: '-l' needs an argument", 2)
check("--bogus", nil, "", "unrecognized option '--bogus'", 2)

-- the REPL on a pipe: expressions print, =expr, incomplete statements
-- continue with ">> ", errors print and the session goes on
do
  local input = table.concat({
    "1 + 1",
    "=2 * 3",
    "for i = 1, 2 do",
    "print(i)",
    "end",
    "error('boom')",
    "local x <const> = 5; return x, nil, 's'",
    "tally.from_columns{{'a', {1, 2}}}",
    "tally.null",
  }, "\n") .. "\n"
  local o, e = check("-i", input, nil, nil, 0)
  local want = table.concat({
    "> 2",
    "> 6",
    "> >> >> 1",
    "2",
    "> > 5\tnil\ts",
    "> a",
    "-",
    "1",
    "2",
    "[2 rows x 1 column: a int]",
    "> null",
    "> ",
    "",
  }, "\n")
  assert(o:match("^tally [^\n]*\n(.*)$") == want, o)
  assert(e:find("stdin:1: boom", 1, true), e)
end

-- `tally file.csv`: the table as t, then the session
do
  local o = check("data/jdr_dispatches.csv", "print(#t, t.persons:sum())\n", nil, nil, 0)
  assert(o:find("t = data/jdr_dispatches.csv: 16 rows x 4 columns\n", 1, true), o)
  assert(o:find("  persons                  int\n", 1, true), o)
  assert(o:find("> 16\t290\n", 1, true), o)
  check("data/no_such.csv", "", nil, "tally: read_csv: ", 1)
end

-- t:show(n) prints the head and tail
do
  local o = check([[-e 'tally.read_csv("data/jica_training.csv"):show(3)']], nil, nil, nil, 0)
  assert(o == table.concat({
    "program                                   year  participants  countries",
    "----------------------------------------  ----  ------------  ---------",
    "Organization Management for Senior Po...  2016            11         11",
    "Organization Management for Senior Po...  2017            13         13",
    "...                                        ...           ...        ...",
    "Criminal Identification                   2020          null       null",
    "[40 rows x 4 columns: program string, year int, participants int, countries int]", ""},
    "\n"), o)
  o = check([[-e 'local t = tally.read_csv("data/jica_training.csv") t:show()']], nil, nil, nil, 0)
  local n = select(2, o:gsub("\n", "\n"))
  assert(n == 2 + 40 + 1, n)
end

-- -i script: the script runs, then the session, with its globals; a failing
-- script exits 1 without a session
do
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write("x = 7\n")
  f:close()
  local o = check("-i " .. quote(path), "print(x * 6)\n", nil, nil, 0)
  assert(o:find("> 42\n", 1, true), o)
  f = assert(io.open(path, "w"))
  f:write("error('early')\n")
  f:close()
  local o2, e = check("-i " .. quote(path), "print('not reached')\n", nil, "early", 1)
  assert(not o2:find("not reached", 1, true), o2)
  assert(e:find("stack traceback:", 1, true), e)
  os.remove(path)
end

-- `tally file.csv` shows the first rows after the schema; help is a global
do
  local o = check("data/jdr_dispatches.csv", "", nil, nil, 0)
  assert(o:find("1990-06-01  Iran", 1, true), o)
  assert(o:find("[16 rows x 4 columns: date date, country string, disaster string, persons int]",
                1, true), o)
  check([[-e 'help(tally.read_json)']], nil,
        "tally.read_json(path [, {types, columns, null, dateformat, timestampformat}])\n"
        .. "  Reads a JSON array of flat objects into a table (types inferred).\n", nil, 0)
end

-- error objects become text as luaL_tolstring makes them: __tostring, __name
check([[-e 'error(setmetatable({}, { __tostring = function() return "custom" end }))']], nil,
      "", "tally: custom\n", 1)
check([[-e 'error(setmetatable({}, { __name = "MyError" }))']], nil, "", "tally: MyError: 0x", 1)
check([[-e 'error(setmetatable({}, { __tostring = function() error("x") end }))']], nil, "",
      "tally: (error object is a table value)", 1)

print("test_cli: ok")
