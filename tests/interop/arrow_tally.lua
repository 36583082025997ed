-- Part of tests/interop/arrow.sh: reads the Arrow files Polars wrote into
-- DIR (the first argument) and checks every column's type, count, sum, min
-- and max against what Polars read back (DIR/expected.lua); then writes
-- polars_none.arrow again with each codec and format, for Polars to read.
local dir = assert(arg[1], "usage: arrow_tally.lua DIR") .. "/"
local expected = dofile(dir .. "expected.lua")
local function close(a, b)
  return a == b or math.abs(a - b) <= 1e-9 * math.max(math.abs(a), math.abs(b))
end
local files = { "polars_none.arrow", "polars_lz4.arrow", "polars_zstd.arrow",
                "polars_none.arrows", "polars_lz4.arrows", "polars_zstd.arrows",
                "polars_batches.arrows" }
for _, file in ipairs(files) do
  local t = tally.read_arrow(dir .. file)
  assert(#t == expected.rows, file .. ": " .. #t .. " rows")
  for j, name in ipairs(expected.order) do
    local e, c = expected.columns[name], t:col(name)
    local what = file .. ": column " .. name
    assert(t:names()[j] == name, what .. " is not at " .. j)
    assert(c:type() == e.type, what .. " is " .. c:type() .. ", not " .. e.type)
    assert(c:count() == e.count, what .. ": count " .. c:count() .. " vs " .. e.count)
    if e.type == "float" then
      assert(close(c:sum(), e.sum), what .. ": sum " .. c:sum() .. " vs " .. e.sum)
      assert(close(c:min(), e.min) and close(c:max(), e.max), what .. ": min or max")
    else
      if e.sum then assert(tostring(c:sum()) == tostring(e.sum), what .. ": sum " .. tostring(c:sum())) end
      assert(c:min() == e.min, what .. ": min " .. tostring(c:min()) .. " vs " .. tostring(e.min))
      assert(c:max() == e.max, what .. ": max " .. tostring(c:max()) .. " vs " .. tostring(e.max))
    end
  end
end
print("tally read " .. #files .. " files of Polars: every figure as Polars reads it")
local t = tally.read_arrow(dir .. "polars_none.arrow")
for _, codec in ipairs{ "none", "lz4", "zstd" } do
  t:write_arrow(dir .. "tally_" .. codec .. ".arrow", { compression = codec })
  t:write_arrow(dir .. "tally_" .. codec .. ".arrows", { compression = codec, format = "stream" })
end
t:write_arrow(dir .. "tally_batches.arrow", { compression = "zstd", batch_rows = 64 })
