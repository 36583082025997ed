-- read_json and read_ndjson options (types, columns, null), and fields
-- that mix kinds of values: vega-datasets' movies (two titles are numbers)
-- reads, its titles as text, with the reason in schema().
-- Run from the repository root: tally tests/lua/test_json_options.lua

local tally = require "tally"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error: " .. msg)
  assert(tostring(err):find(msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, tostring(err)))
end

local tmp = os.tmpname()
local function spit(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local movies = "tests/data/json/movies40.json"

-- a field of strings and numbers is a string column, numbers as their text
do
  local m = tally.read_json(movies)
  assert(#m == 40 and m:ncol() == 16, #m .. " " .. m:ncol())
  local s = m:schema()
  assert(s[1].name == "Title" and s[1].type == "string", s[1].type)
  assert(s[1].reason:find("strings mixed with numbers", 1, true), tostring(s[1].reason))
  assert(s[1].reason:find("record 22", 1, true), s[1].reason)
  assert(m.Title[22] == "1776", tostring(m.Title[22]))
  assert(s[2].type == "int" and s[2].reason == nil, "US Gross stays int")
  assert(m:filter("Title == '1941'"):ncol() == 16 and #m:filter("Title == '1941'") == 1)
end

-- types: forced, with formats; columns: only these, in this order
do
  local m = tally.read_json(movies, {
    columns = { "Title", "Release Date", "IMDB Rating", "US Gross" },
    types = { ["Release Date"] = "date:%b %d %Y", ["US Gross"] = "float", Title = "string" } })
  local n = m:names()
  assert(n[1] == "Title" and n[2] == "Release Date" and n[3] == "IMDB Rating" and n[4] == "US Gross")
  assert(m:schema()[2].type == "date" and m:schema()[4].type == "float")
  assert(tostring(m["Release Date"][1]) == "1998-06-12", tostring(m["Release Date"][1]))
  assert(m["IMDB Rating"]:nulls() == 7, m["IMDB Rating"]:nulls())
  -- a number forced to string: its shortest round-trip text
  local r = tally.read_json(movies, { types = { ["IMDB Rating"] = "string" } })
  assert(r["IMDB Rating"][1] == "6.1", r["IMDB Rating"][1])
end

-- null: a string read as null; values that do not convert name record and field
do
  spit(tmp, '[{"a": "1", "b": "NA", "c": 2.5}, {"a": "x", "b": "7", "c": 3}, {"a": "3", "b": null, "c": true}]')
  local t = tally.read_json(tmp, { null = "NA" })
  assert(t:schema()[2].type == "string" and t.b:nulls() == 2 and t.b[2] == "7")
  assert(t:schema()[3].type == "string" and t.c[1] == "2.5" and t.c[3] == "true",
         "floats and booleans mixed: text")
  assert(tally.read_json(tmp, { null = "NA", types = { b = "int" } }).b[2] == 7)
  check_error("read_json: " .. tmp .. ": record 2: field 'a': 'x' is not an int",
              tally.read_json, tmp, { types = { a = "int" } })
  check_error("field 'c': true is not a float", tally.read_json, tmp, { types = { c = "float" } })
  check_error("read_json: types: field 'a': unknown type 'integer'",
              tally.read_json, tmp, { types = { a = "integer" } })
  check_error("columns: no field 'bb' (did you mean 'b'?)",
              tally.read_json, tmp, { columns = { "a", "bb" } })
  check_error("types: no field 'c' among the columns read",
              tally.read_json, tmp, { columns = { "a" }, types = { c = "float" } })
  check_error("read_json: unknown option 'colums' (did you mean 'columns'?)",
              tally.read_json, tmp, { colums = { "a" } })
end

-- NDJSON errors name the line
do
  spit(tmp, '{"a": 1}\n\n{"a": "two"}\n{"a": 3}\n')
  local t = tally.read_ndjson(tmp)
  assert(t:schema()[1].type == "string" and t.a[1] == "1" and t.a[2] == "two")
  assert(t:schema()[1].reason:find(":3)", 1, true), t:schema()[1].reason)
  check_error("read_ndjson: " .. tmp .. ":3: field 'a': 'two' is not an int",
              tally.read_ndjson, tmp, { types = { a = "int" } })
end

os.remove(tmp)
print("json options: ok")
