-- tally.read_arrow and t:write_arrow: files Polars wrote (tests/data/arrow,
-- made by make_polars.js, with the figures Polars reads back from them in
-- expected.lua), round trips through tally of every type and codec, options,
-- nested columns, and damaged files: truncated at every byte, bytes changed.

local dir = "tests/data/arrow/"
local expected = dofile(dir .. "expected.lua")

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error: " .. msg)
  assert(string.find(err, msg, 1, true), "unexpected error: " .. tostring(err))
  return err
end

local function close(a, b)
  return a == b or math.abs(a - b) <= 1e-9 * math.max(math.abs(a), math.abs(b))
end

-- Polars' files: every column's type, count, sum, min and max as Polars reads them
local files = { "polars_none.arrow", "polars_lz4.arrow", "polars_zstd.arrow",
                "polars_none.arrows", "polars_lz4.arrows", "polars_zstd.arrows",
                "polars_batches.arrows" }
for _, file in ipairs(files) do
  local t = tally.read_arrow(dir .. file)
  assert(#t == expected.rows, file .. ": " .. #t .. " rows")
  local names = t:names()
  assert(#names == #expected.order, file .. ": column count")
  for j, name in ipairs(expected.order) do
    local e, c = expected.columns[name], t:col(name)
    local what = file .. ": column " .. name
    assert(names[j] == name, what .. " is at " .. j)
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

-- the three codecs and both formats give the same table, row for row
local function same(a, b, what)
  assert(#a == #b, what .. ": " .. #a .. " rows vs " .. #b)
  local an, bn = a:names(), b:names()
  assert(#an == #bn, what .. ": column count")
  for j, name in ipairs(an) do
    assert(bn[j] == name, what .. ": column " .. j .. " is " .. tostring(bn[j]))
    local x, y = a:col(name), b:col(name)
    assert(x:type() == y:type(), what .. ": " .. name .. " is " .. y:type() .. ", not " .. x:type())
    assert(x:nulls() == y:nulls(), what .. ": " .. name .. " nulls")
    for i = 1, #x do
      assert(x[i] == y[i], string.format("%s: %s row %d: %s vs %s", what, name, i,
                                          tostring(x[i]), tostring(y[i])))
    end
  end
end
local base = tally.read_arrow(dir .. "polars_none.arrow")
for _, file in ipairs(files) do same(base, tally.read_arrow(dir .. file), file) end

-- round trips through tally: every type, nulls, a dictionary column
local tmp = os.tmpname()
local csv = tally.read_csv_string(
  "d,ts,cat,n\n2020-01-01,2020-01-01 01:02:03.5,north,1\n,,south,\n1969-12-31,1969-12-31 23:59:59.999999,north,3\n" ..
  "2000-02-29,,,4\n", { types = { d = "date", ts = "timestamp" } })
local mixed = tally.from_columns{
  { "i", { 1, -2, nil, 9007199254740993 } }, { "f", { 1.5, nil, -0.0, 1e300 } },
  { "s", { "a", "", nil, "a longer string, with UTF-8: é" } }, { "b", { true, false, nil, true } },
  { "d", csv.d }, { "ts", csv.ts }, { "cat", csv.cat }, { "n", csv.n } }
for _, codec in ipairs{ "none", "lz4", "zstd" } do
  for _, format in ipairs{ "file", "stream" } do
    for _, rows in ipairs{ 0, 64 } do
      local opts = { compression = codec, format = format }
      if rows > 0 then opts.batch_rows = rows end
      local what = codec .. " " .. format .. " " .. rows
      mixed:write_arrow(tmp, opts)
      same(mixed, tally.read_arrow(tmp), what)
      local empty = mixed:head(0)
      empty:write_arrow(tmp, opts)
      same(empty, tally.read_arrow(tmp), what .. " (no rows)")
    end
  end
end

-- several record batches, the last one short, each with its own nulls
local big = base:concat(base):concat(base):concat(base)
big:write_arrow(tmp, { batch_rows = 100, compression = "zstd" })
same(big, tally.read_arrow(tmp), "batches of 100")
big:write_arrow(tmp, { batch_rows = 128 })
same(big, tally.read_arrow(tmp), "batches of 128")
same(big:select("s", "i8"), tally.read_arrow(tmp, { columns = { "s", "i8" } }), "columns")

-- options
check_error("write_arrow: unknown option 'compresion' (did you mean 'compression'?)",
            mixed.write_arrow, mixed, tmp, { compresion = "zstd" })
check_error('write_arrow: option \'compression\' must be one of "none", "lz4", "zstd", got gzip',
            mixed.write_arrow, mixed, tmp, { compression = "gzip" })
check_error('write_arrow: option \'format\' must be one of "file", "stream", got feather',
            mixed.write_arrow, mixed, tmp, { format = "feather" })
check_error("read_arrow: unknown option 'column' (did you mean 'columns'?)",
            tally.read_arrow, tmp, { column = { "s" } })
check_error("read_arrow: " .. tmp .. ": schema: no column 'i9' (did you mean 'i8'?)",
            tally.read_arrow, tmp, { columns = { "i9" } })
check_error("read_arrow: cannot open 'no/such.arrow'", tally.read_arrow, "no/such.arrow")

-- a nested column is an error naming it, and `columns` can leave it out
check_error("read_arrow: " .. dir .. "polars_nested.arrow: schema: column 'tags' is a nested " ..
            "column (large_list), which tally cannot hold: leave it out with the option columns",
            tally.read_arrow, dir .. "polars_nested.arrow")
local ids = tally.read_arrow(dir .. "polars_nested.arrow", { columns = { "id" } })
assert(#ids == 3 and ids.id:sum() == 6)

-- damaged files: truncated at every byte, and every byte changed, are errors
-- that name the file (or read), never crashes
local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
-- each damaged copy is a new file: rewriting one in place waits for the disk
local copies = 0
local function spit(s)
  copies = copies + 1
  local path = tmp .. "." .. copies
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
  return path
end
local small = mixed:head(3)
local cases = {}
for _, codec in ipairs{ "none", "zstd", "lz4" } do
  for _, format in ipairs{ "file", "stream" } do
    small:write_arrow(tmp, { compression = codec, format = format })
    cases[#cases + 1] = slurp(tmp)
  end
end
cases[#cases + 1] = slurp(dir .. "polars_nested.arrow")
for k, bytes in ipairs(cases) do
  for n = 0, #bytes - 1 do
    local path = spit(bytes:sub(1, n))
    local ok, err = pcall(tally.read_arrow, path)
    os.remove(path)
    assert(not ok, "case " .. k .. ": truncated at " .. n .. " bytes reads")
    assert(err:find("read_arrow: " .. path .. ": ", 1, true), err)
  end
  for n = 1, #bytes, k <= 2 and 2 or 9 do
    for _, x in ipairs{ 0x01, 0x80, 0xff } do
      local b = string.char(bytes:byte(n) ~ x)
      local path = spit(bytes:sub(1, n - 1) .. b .. bytes:sub(n + 1))
      local ok, t = pcall(tally.read_arrow, path)
      os.remove(path)
      if ok then
        for _, name in ipairs(t:names()) do local c = t:col(name); local _ = c:count(), c:min() end
      else
        assert(t:find("read_arrow: " .. path .. ": ", 1, true), t)
      end
    end
  end
end
os.remove(tmp)
print("arrow ipc ok")
