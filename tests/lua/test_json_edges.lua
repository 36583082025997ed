-- read_json and read_ndjson at the edges of their input: a UTF-8
-- byte-order mark (skipped, as read_csv skips it), an empty field name (an
-- error naming the file and the record, was tl_table_new's "table: column
-- 1 has an empty name"), and the file cut at every byte (an error naming
-- the file, or a table of the records before the cut).
-- Run from the repository root: tally tests/lua/test_json_edges.lua

local tally = require "tally"
local check = require "tests.lua.scan_check"
local check_error, same = check.check_error, check.same

local dir = check.tempdir()
local function path(name) return dir .. "/" .. name end
local function put(name, bytes)
  local f = assert(io.open(path(name), "wb"))
  f:write(bytes)
  f:close()
  return path(name)
end

local want = tally.from_columns{ { "a", { 1, 2 } }, { "b", { "x", "y" } } }
local bom = "\xEF\xBB\xBF"
same(tally.read_json(put("bom.json", bom .. '[{"a":1,"b":"x"},{"a":2,"b":"y"}]')), want, "json, BOM")
same(tally.read_ndjson(put("bom.ndjson", bom .. '{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n')), want,
     "ndjson, BOM")
same(tally.read(path("bom.json")), want, "tally.read, BOM")
-- a BOM alone, or only part of one, is not JSON
check_error("read_json: " .. path("b1.json") .. ":", tally.read_json, put("b1.json", bom))
check_error("read_json: " .. path("b2.json") .. ":", tally.read_json, put("b2.json", "\xEF\xBB[]"))
-- without a BOM, as before
same(tally.read_json(put("plain.json", '[{"a":1,"b":"x"},{"a":2,"b":"y"}]')), want, "json")

check_error("read_json: " .. path("e.json") .. ": record 2: an empty field name (\"\")",
            tally.read_json, put("e.json", '[{"a":1},{"":2}]'))
check_error("read_ndjson: " .. path("e.ndjson") .. ":3: an empty field name (\"\")",
            tally.read_ndjson, put("e.ndjson", '{"a":1}\n\n{"a":2,"":3}\n'))

-- cut at every byte
local text = assert(io.open("tests/data/json/flights40.json", "rb")):read("a")
local whole = tally.read_json("tests/data/json/flights40.json")
for n = 0, #text - 1 do
  local p = put("cut.json", text:sub(1, n))
  local ok, err = pcall(tally.read_json, p)
  if ok then
    assert(#err <= #whole, "cut at " .. n)
  else
    assert(tostring(err):find("read_json: " .. p, 1, true), "cut at " .. n .. ": " .. tostring(err))
  end
end

os.execute("rm -rf '" .. dir .. "'")
print("test_json_edges: ok")
