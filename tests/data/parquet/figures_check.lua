-- Compares what tally.read_parquet reads from each file with the figures
-- another engine read (figures.js writes them): every column's name, type,
-- count, sum, min, max and distinct count; floats within 1e-9 relative.
--   local check = dofile("tests/data/parquet/figures_check.lua")
--   check(dofile("tests/data/parquet/figures.lua"), "tests/data/parquet/")
-- Returns the number of columns checked; a mismatch is an error naming
-- the file, the column and the figure.

local function close(a, b)
  if a == b then return true end
  if type(a) ~= "number" or type(b) ~= "number" then return false end
  return math.abs(a - b) <= 1e-9 * math.max(math.abs(a), math.abs(b), 1e-300)
end

-- tally's text of a timestamp leaves out a zero fraction
local function ts_text(s)
  if s and not s:find(".", 1, true) then return s .. ".000000" end
  return s
end

local function sum_of(c)
  local ok, s = pcall(c.sum, c)
  if ok then return s end
  s = 0.0                                   -- past int64: summed as floats
  for i = 1, #c do
    local v = c[i]
    if v ~= nil then s = s + v end
  end
  return s
end

return function(expected, dir)
  local files, checked = {}, 0
  for f in pairs(expected) do files[#files + 1] = f end
  table.sort(files)
  for _, file in ipairs(files) do
    local cols = expected[file]
    local t = tally.read_parquet(dir .. file)
    local names = t:names()
    assert(#names == #cols, file .. ": " .. #names .. " columns, expected " .. #cols)
    for j, e in ipairs(cols) do
      local what = file .. ": column '" .. e.name .. "'"
      assert(names[j] == e.name, what .. ": tally has '" .. tostring(names[j]) .. "' there")
      local c = t[e.name]
      assert(c:type() == e.type, what .. ": type " .. c:type() .. ", expected " .. e.type)
      local got = {
        count = c:count(), distinct = c:count_distinct(),
        min = c:min(), max = c:max(),
        sum = (e.type == "int" or e.type == "float" or e.type == "bool") and sum_of(c) or nil,
      }
      if e.type == "timestamp" then got.min, got.max = ts_text(got.min), ts_text(got.max) end
      for _, k in ipairs{ "count", "sum", "min", "max", "distinct" } do
        assert(close(got[k], e[k]), string.format("%s: %s %s, expected %s", what, k,
                                                  tostring(got[k]), tostring(e[k])))
      end
      checked = checked + 1
    end
  end
  return checked
end
