-- Display, JSON, Markdown, charts and help.
-- Run from the repository root: tally tests/lua/test_display.lua

local tally = require "tally"

local function expect(got, want)
  assert(got == want, string.format("\nexpected:\n%s\ngot:\n%s", want, got))
end

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error")
  assert(tostring(err):find(msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, tostring(err)))
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function spit(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local tmp = os.tmpname()
local t = tally.from_columns{
  {"id", {1, 2, 3}},
  {"name", {"a|b", tally.null, "line\nbreak"}},
  {"x", {1.5, tally.null, -2.0}},
  {"ok", {true, false, tally.null}},
}

-- on a terminal: nulls dimmed, cuts marked with one ellipsis character
do
  local s = t:format{ color = true, width = 30 }
  assert(s:find("\27[2mnull\27[0m", 1, true), s)
  local long = tally.from_columns{ {"s", {string.rep("x", 50)}} }
  local l = long:format{ color = true, width = 20 }
  assert(l:find(string.rep("x", 19) .. "\u{2026}", 1, true), l)
  -- plain: no escapes at all
  assert(not t:format{ color = false }:find("\27", 1, true))
  check_error("format: unknown option 'colour'", function() return t:format{ colour = true } end)
  check_error("show: option 'n' must be an integer in [1, 9223372036854775807], got 0", function() t:show{ n = 0 } end)
end

-- Markdown
expect(t:to_markdown(), table.concat({
  "| id | name | x | ok |",
  "| ---: | --- | ---: | --- |",
  "| 1 | a\\|b | 1.5 | true |",
  "| 2 |  |  | false |",
  "| 3 | line<br>break | -2.0 |  |", ""}, "\n"))

-- JSON out and back in
do
  local d = tally.read_csv("data/jdr_dispatches.csv")
  t:write_json(tmp)
  expect(slurp(tmp), table.concat({
    "[",
    '{"id":1,"name":"a|b","x":1.5,"ok":true},',
    '{"id":2,"name":null,"x":null,"ok":false},',
    '{"id":3,"name":"line\\nbreak","x":-2.0,"ok":null}',
    "]", ""}, "\n"))
  local back = tally.read_json(tmp)
  expect(back:format{ color = false }, t:format{ color = false })
  t:write_ndjson(tmp)
  expect(select(2, slurp(tmp):gsub("\n", "")), 3)
  expect(tally.read_ndjson(tmp):format{ color = false }, t:format{ color = false })
  -- dates come back as dates
  d:write_json(tmp)
  local d2 = tally.read_json(tmp)
  expect(d2.date:type(), "date")
  expect(d2:format{ color = false }, d:format{ color = false })
  d:write_ndjson(tmp)
  expect(#tally.read_ndjson(tmp), 16)
  -- empty
  tally.from_columns{}:write_json(tmp)
  expect(slurp(tmp), "[]\n")
  expect(#tally.read_json(tmp), 0)
end

-- JSON reading: keys in order of first appearance, missing keys are null,
-- ints and floats mix into floats
do
  spit(tmp, '[{"a": 1, "b": "x"}, {"b": "y", "c": 2.5}, {"a": 3.5, "c": null}]')
  local j = tally.read_json(tmp)
  expect(table.concat(j:names(), ","), "a,b,c")
  expect(j.a:type(), "float")
  expect(j.b:nulls(), 1)
  expect(j.c[2], 2.5)
  spit(tmp, '{"a": 1}\n\n{"a": 2}\n')
  expect(tally.read_ndjson(tmp).a:sum(), 3)
end

-- JSON errors: the file and the place
do
  spit(tmp, '[{"a": 1},\n {"a": }]')
  check_error("read_json: " .. tmp .. ":2:", tally.read_json, tmp)
  spit(tmp, '[{"a": 1}, {"a": "x"}]')               -- mixed kinds: text, and why
  local mixed = tally.read_json(tmp)
  expect(mixed:schema()[1].type, "string")
  expect(mixed.a[1], "1")
  check_error("read_json: " .. tmp .. ": record 2: field 'a': 'x' is not an int",
              tally.read_json, tmp, { types = { a = "int" } })
  spit(tmp, '[{"a": [1]}]')
  check_error("field 'a': nested values (an array) are not supported", tally.read_json, tmp)
  spit(tmp, '{"a": 1}')
  check_error("expected an array of objects, got an object", tally.read_json, tmp)
  spit(tmp, '{"a": 1}\n{"a": true}\n')
  check_error("read_ndjson: " .. tmp .. ":2: field 'a': true is not an int",
              tally.read_ndjson, tmp, { types = { a = "int" } })
  spit(tmp, '{"a": 1}\n{"a": \n')
  check_error("read_ndjson: " .. tmp .. ":2:", tally.read_ndjson, tmp)
  check_error("read_json: cannot open '/no/such.json'", tally.read_json, "/no/such.json")
end

-- terminal charts: one bar per row, scaled to the largest value
do
  local b = tally.from_columns{ {"k", {"a", "bb", "c"}}, {"v", {8, 4, tally.null}} }
  local s = b:bar("k", "v", { width = 20, print = false })
  expect(s, "a  " .. string.rep("\u{2588}", 12) .. " 8\n"
         .. "bb " .. string.rep("\u{2588}", 6) .. " 4\n"
         .. "c   null\n")
  check_error("bar: unknown column 'w'", function() b:bar("k", "w") end)
  check_error("bar: column 'k' is string, not a number", function() b:bar("v", "k") end)
  local h = tally.from_columns{ {"x", {1, 2, 2, 3, 3, 3, 4}} }.x:hist{ bins = 3, width = 30,
                                                                      print = false }
  local lines = {}
  for line in h:gmatch("[^\n]+") do lines[#lines + 1] = line end
  expect(#lines, 3)
  assert(lines[1]:find("^%[1, 2%)"), lines[1])
  assert(lines[3]:find("^%[3, 4%] .* 4$"), lines[3])
  check_error("hist: column 'k'", function() b.k:hist() end)
end

-- Charts as files: tests/lua/test_plot.lua

-- help, through the executable running this script
do
  local exe = assert(arg[-1], "run this script with the tally executable")
  local function run(code)
    local p = assert(io.popen(string.format("%s -e '%s'", exe, code)))
    local s = p:read("a")
    p:close()
    return s
  end
  local s = run("help(tally.read_csv)")
  assert(s:find("tally.read_csv(path", 1, true), s)
  s = run([[help(tally.from_columns{{"a", {1}}}.filter)]])
  assert(s:find("t:filter(expr", 1, true), s)
  s = run("help()")
  assert(s:find("Table methods", 1, true) and s:find("t:plot", 1, true), s)
  s = run([[help(tally.from_columns{{"a", {1}}}.a)]])
  assert(s:find("Column: a column", 1, true) and s:find("c:hist", 1, true), s)
  s = run([[help("sum")]])
  assert(s:find("c:sum()", 1, true), s)
  -- the expression functions come from the core's registry
  assert(s:find("sum(x)  (in expressions: an aggregate)", 1, true), s)
  s = run([[help("lag")]])
  assert(s:find("lag(x [, k [, default]])  (in expressions: a window function)", 1, true), s)
  s = run([[help("abs")]])
  assert(s:find("abs(x)  (in expressions: a scalar function)", 1, true), s)
  s = run([[help("nosuch")]])
  assert(s == "no help for 'nosuch'; help() lists what there is\n", s)
  s = run("help()")
  assert(s:find("window functions, in mutate:\n  lag  lead", 1, true), s)
  s = run("help(tally.func)")
  assert(s:find("tally.func{ name, fn, type, nulls, parallel }", 1, true), s)
  s = run("help(tally.aggregate)")
  assert(s:find("merge, final, type, nulls, parallel }", 1, true), s)
end

os.remove(tmp)
print("test_display: ok")
