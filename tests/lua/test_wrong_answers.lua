-- Answers that were silently wrong: strings cut at a NUL byte, messages
-- echoing huge names, mislabelled errors, error objects shown as "table",
-- charts of non-finite values, JSON that read_json could not read back.
-- Run from the repository root: tally tests/lua/test_wrong_answers.lua

local tally = require "tally"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
  return err
end

local t = tally.from_columns{ { "a", { 1, 2, 3 } }, { "s", { "x", "y", "z" } } }

-- a NUL byte inside a string for the core is an error, never a truncation
check_error("filter: expression contains a NUL byte at byte 6", t.filter, t, "a > 1\0 and false")
check_error("mutate: argument 1 contains a NUL byte at byte 6", t.mutate, t, "b = a\0 + 1")
check_error("agg: argument 1 contains a NUL byte", t.agg, t, "n = count()\0")
check_error("select: argument 1 contains a NUL byte at byte 2", t.select, t, "a\0junk")
check_error("select: entry 2 of the list contains a NUL byte", t.select, t, { "s", "a\0" })
check_error("drop: argument 1 contains a NUL byte", t.drop, t, "s\0")
check_error("sort: argument 1 contains a NUL byte", t.sort, t, "a\0")
check_error("group_by: argument 1 contains a NUL byte", t.group_by, t, "s\0x")
check_error("rename: a name to rename contains a NUL byte", t.rename, t, { ["a\0"] = "b" })
check_error("rename: a new name contains a NUL byte", t.rename, t, { a = "b\0c" })
check_error("table: column name contains a NUL byte", function() return t["a\0b"] end)
check_error("row: column name contains a NUL byte", function() return t[1]["a\0b"] end)
check_error("col: column name contains a NUL byte", t.col, t, "a\0b")
check_error("join: 'on' contains a NUL byte", t.join, t, t, { on = "a\0" })
check_error("join: entry 1 of 'on' contains a NUL byte", t.join, t, t, { on = { "a\0" } })
check_error("join: 'how' contains a NUL byte", t.join, t, t, { on = "a", how = "left\0x" })
check_error("join: 'suffix' entry 2 contains a NUL byte", t.join, t, t,
            { on = "a", suffix = { "_l", "_r\0" } })
check_error("mutate: option 'order_by' contains a NUL byte", t.mutate, t,
            "r = row_number()", { order_by = "a\0" })
check_error("read_csv_string: option 'null' contains a NUL byte", tally.read_csv_string,
            "a\n1\n", { null = "NA\0" })
check_error("read_csv_string: option 'comment' contains a NUL byte", tally.read_csv_string,
            "a\n1\n", { comment = "#\0" })
check_error("read_csv_string: option 'on_error' contains a NUL byte", tally.read_csv_string,
            "a\n1\n", { on_error = "skip\0" })
check_error("read_csv_string: option 'columns' entry 1 contains a NUL byte",
            tally.read_csv_string, "a\n1\n", { columns = { "a\0" } })
check_error("read_csv_string: option 'types' key contains a NUL byte", tally.read_csv_string,
            "a\n1\n", { types = { ["a\0"] = "int" } })
check_error("read_csv_string: an option name contains a NUL byte", tally.read_csv_string,
            "a\n1\n", { ["sep\0"] = ";" })
check_error("read_csv: path contains a NUL byte", tally.read_csv, "data/jica_training.csv\0x")
check_error("write_csv: path contains a NUL byte", t.write_csv, t, "/tmp/x.csv\0y")
check_error("write_json: path contains a NUL byte", t.write_json, t, "/tmp/x.json\0y")
check_error("save: path contains a NUL byte", t.save, t, "/tmp/x.tally\0y")
check_error("load: path contains a NUL byte", tally.load, "/tmp/x.tally\0y")
check_error("from_columns: the name of entry 1 contains a NUL byte", tally.from_columns,
            { { "a\0b", { 1 } } })
check_error("from_rows: the name of entry 1 contains a NUL byte", tally.from_rows,
            { { ["a\0b"] = 1 } })
check_error("aggregate: 'name' contains a NUL byte", tally.aggregate,
            { name = "ok\0bad", init = 0, step = function(s, x) return s + x end })
check_error("func: 'name' contains a NUL byte", tally.func,
            { name = "ok\0bad", type = "int", fn = function(x) return x end })
check_error("plot: option 'title' contains a NUL byte", t.plot, t,
            { x = "a", y = "a", file = "/tmp/x.svg", title = "T\0" })
check_error("read_document: path contains a NUL byte", tally.read_document, "x.txt\0y")
-- the expression language still reads a NUL written as an escape
assert(#t:filter("s != 'x\\0'") == 3)

-- user strings echoed into messages are capped
local long = string.rep("n", 100000)
local e = check_error("aggregate: name 'nnnn", tally.aggregate,
                      { name = long, init = 0, step = function(s) return s end })
assert(#e < 200 and e:find("...", 1, true), e)
e = check_error("unknown column 'nnnn", function() return t[long] end)
assert(#e < 200, e)
e = check_error("from_columns: column 'nnnn", tally.from_columns, { { long, { 1, "x" } } })
assert(#e < 200, e)
e = check_error("read_csv_string: unknown option 'nnnn", tally.read_csv_string, "a\n1\n",
                { [long] = 1 })
assert(#e:match("unknown option '(.-)'") < 100, e)   -- the echo is capped; the list follows
-- a cut never splits a UTF-8 sequence
e = check_error("unknown column", function() return t[string.rep("é", 1000)] end)
assert(utf8.len(e), e)

-- each operation names itself
check_error("from_rows: column 'a' row 2: expected a number, got string", tally.from_rows,
            { { a = 1 }, { a = "x" } })
check_error("from_rows: column 'a' row 1: unsupported value (table)", tally.from_rows,
            { { a = {} } })
check_error("read_csv_string: option 'skip' must be an integer", tally.read_csv_string,
            "a\n1\n", { skip = "x" })

-- an error in init is init's, in step step's, in final final's
tally.aggregate{ name = "bad_init", init = function() error("boom") end,
                 step = function(s, x) return s end }
check_error("bad_init: init: row 1: ", t.agg, t, "bad_init(a)")
tally.aggregate{ name = "bad_step", init = function() return {} end,
                 step = function(s, x) error("boom") end }
check_error("bad_step: step: row 1: ", t.agg, t, "bad_step(a)")
tally.aggregate{ name = "bad_final", init = function() return {} end,
                 step = function(s, x) end, final = function(s) error("boom") end }
check_error("bad_final: final: ", t.agg, t, "bad_final(a)")
tally.aggregate{ name = "bad_init_batch", init = function() error("boom") end,
                 step_batch = function(s, v, n) end }
check_error("bad_init_batch: init: ", t.agg, t, "bad_init_batch(a)")

-- an error object with __tostring is shown through it
local E = setmetatable({}, { __tostring = function() return "custom error object" end })
tally.aggregate{ name = "obj_step", init = function() return {} end,
                 step = function(s, x) error(E) end }
check_error("obj_step: step: row 1: custom error object", t.agg, t, "obj_step(a)")
tally.func{ name = "obj_fn", type = "int", fn = function(x) error(E) end }
check_error("function 'obj_fn': row 1: custom error object", t.mutate, t, "b = obj_fn(a)")
check_error("filter: row 1: custom error object", t.filter, t, function(r) error(E) end)
-- a __tostring that fails is named as such, not raised through the core
local F = setmetatable({}, { __tostring = function() error("again") end })
tally.aggregate{ name = "obj_bad", init = function() return {} end,
                 step = function(s, x) error(F) end }
check_error("obj_bad: step: row 1: (error object whose __tostring failed)", t.agg, t,
            "obj_bad(a)")

-- hist bins the finite values; -inf, inf and nan get a line each
local h = tally.from_columns{ { "x", { 1, 2, 1 / 0, -1 / 0, 0 / 0, 3, 1 / 0 } } }.x:hist{
  bins = 2, print = false }
assert(not h:find("nan,", 1, true) and not h:find("inf,", 1, true), h)
assert(h:find("[1, 2)", 1, true) and h:find("[2, 3]", 1, true), h)
assert(h:find("\n%-inf +[^\n]* 1\n") and h:find("\ninf +[^\n]* 2\n") and h:find("\nnan +[^\n]* 1\n"), h)
h = tally.from_columns{ { "x", { -1e308, 1e308 } } }.x:hist{ bins = 2, print = false }
assert(not h:find("nan") and not h:find("inf"), h)           -- max - min overflows
-- bar scales to the finite values: an infinite one does not flatten the others
local b = tally.from_columns{ { "l", { "a", "b", "c" } }, { "v", { 1, 1 / 0, 2 } } }:bar(
  "l", "v", { print = false, width = 40 })
local full = "\xe2\x96\x88"
local la = b:match("a ([^\n]*)"); local lc = b:match("c ([^\n]*)")
assert(select(2, lc:gsub(full, "")) > select(2, la:gsub(full, "")), b)
assert(not b:match("b [^\n]*" .. full), b)

-- JSON and CSV are written as valid UTF-8, or not at all
local bad = tally.from_columns{ { "k\xff", { "a" } } }
check_error("write_json: the name of column 1 is not valid UTF-8", bad.write_json, bad,
            os.tmpname())
check_error("write_csv: the name of column 1 is not valid UTF-8", bad.write_csv, bad,
            os.tmpname())
bad = tally.from_columns{ { "k", { "a", "b\xc3(" } } }
check_error("write_ndjson: column 1 ('k') row 2: invalid UTF-8", bad.write_ndjson, bad,
            os.tmpname())
check_error("write_json: column 1 ('k') row 2: invalid UTF-8", bad.write_json, bad,
            os.tmpname())
-- and what they write reads back, NUL bytes in values included
local nul = tally.from_columns{ { "k", { "a", "b\0c" } } }
local path = os.tmpname()
nul:write_json(path)
assert(tally.read_json(path)[2].k == "b\0c")
nul:write_ndjson(path)
assert(tally.read_ndjson(path)[2].k == "b\0c")
os.remove(path)

print("test_wrong_answers: ok")
