-- tally side of json_dates.sh: reads each JSON file with read_json, types
-- inferred, and compares the types and every value with DuckDB's reading.
--   tally tests/interop/json_dates.lua DIR
local dir = arg[1]
local files = { "crimea.json", "unemployment40.json", "flights40.json" }
local checked = 0

local function split(line)
  local out = {}
  for v in (line .. "|"):gmatch("(.-)|") do out[#out + 1] = v end
  return out
end

-- A value as DuckDB's text of it (floats: the number DuckDB's text reads as).
local function text(v, kind, want)
  if v == nil or v == tally.null then return "null" end
  if kind == "float" and tonumber(want) == v then return want end
  return tostring(v)
end

for _, file in ipairs(files) do
  local t = tally.read_json("tests/data/json/" .. file)
  local f = assert(io.open(dir .. "/" .. file .. ".txt"))
  local types = split(f:read("l"))
  local names = t:names()
  assert(#names == #types, file .. ": " .. #names .. " columns, DuckDB " .. #types)
  local exprs = {}
  for j, name in ipairs(names) do
    local kind = t:col(name):type()
    assert(kind == types[j], string.format("%s: column %s is %s, DuckDB's %s", file, name, kind, types[j]))
    if kind == "date" or kind == "timestamp" then
      exprs[#exprs + 1] = string.format("%s = strftime(%s, '%%Y-%%m-%%d %%H:%%M:%%S.%%f')", name, name)
    end
  end
  if #exprs > 0 then t = t:mutate(table.unpack(exprs)) end
  local i = 0
  for line in f:lines() do
    i = i + 1
    local want = split(line)
    for j, name in ipairs(names) do
      local got = text(t[i][name], types[j], want[j])
      assert(got == want[j], string.format("%s: row %d, %s: %s, DuckDB %s", file, i, name, got, want[j]))
      checked = checked + 1
    end
  end
  f:close()
  assert(i == #t, file .. ": " .. #t .. " rows, DuckDB " .. i)
end
print("json_dates: " .. checked .. " values as DuckDB reads them")
