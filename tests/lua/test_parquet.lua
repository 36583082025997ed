-- tally.read_parquet against files DuckDB and Polars wrote (make.js and
-- make_polars.js in tests/data/parquet made them, with the CSV of the same data): the same names,
-- types, values and nulls as read_csv of the CSV; then options, what is not
-- supported yet, and damaged files.

local dir = "tests/data/parquet/"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error: " .. msg)
  assert(string.find(err, msg, 1, true), "unexpected error: " .. tostring(err))
  return err
end

local function same(p, c, what)
  assert(#p == #c, what .. ": " .. #p .. " rows, the CSV has " .. #c)
  local pn, cn = p:names(), c:names()
  assert(#pn == #cn, what .. ": column count")
  for j, name in ipairs(cn) do
    assert(pn[j] == name, what .. ": column " .. j .. " is " .. tostring(pn[j]))
    local a, b = p:col(name), c:col(name)
    assert(a:type() == b:type(), what .. ": " .. name .. " is " .. a:type() .. ", not " .. b:type())
    assert(a:nulls() == b:nulls(), what .. ": " .. name .. " nulls " .. a:nulls() .. " vs " .. b:nulls())
    for i = 1, #b do
      assert(a[i] == b[i], string.format("%s: %s row %d: %s vs %s", what, name, i,
                                          tostring(a[i]), tostring(b[i])))
    end
  end
end

local types = {
  b = "bool", i8 = "int", i16 = "int", i32 = "int", i64 = "int", u8 = "int", u32 = "int",
  u64 = "int", f = "float", d = "float", s = "string", color = "string", dt = "date",
  ts = "timestamp", ts_ms = "timestamp", ts_ns = "timestamp", dec4 = "float", dec8 = "float",
  dec16 = "float", tstz = "timestamp", js = "string", en = "string", u16 = "int",
}
local expected = tally.read_csv(dir .. "types.csv", { types = types })
assert(#expected == 120 and expected:ncol() == 23)

-- every codec DuckDB writes, the same table; data pages v2 (DELTA_BINARY_PACKED,
-- DELTA_LENGTH_BYTE_ARRAY, BYTE_STREAM_SPLIT)
for _, codec in ipairs{ "uncompressed", "snappy", "zstd", "gzip", "lz4", "brotli", "v2" } do
  local t = tally.read_parquet(dir .. "types_" .. codec .. ".parquet")
  same(t, expected, codec)
end

-- several row groups (ROW_GROUP_SIZE 2048 of 5000 rows), a dictionary string column
local g = tally.read_parquet(dir .. "groups.parquet")
same(g, tally.read_csv(dir .. "groups.csv", { types = { id = "int", k = "int", g = "string" } }),
     "groups")
assert(g.g:nulls() == 500 and g.id:sum() == 4999 * 5000 // 2)
-- the same in 5 row groups of data pages v2, LZ4_RAW
same(tally.read_parquet(dir .. "groups_v2.parquet"), g, "groups v2")

-- another writer: Polars (tests/data/parquet/make_polars.js), every codec
local pexp = tally.read_csv(dir .. "polars.csv",
                           { types = { i = "int", f = "float", s = "string", b = "bool" } })
for _, codec in ipairs{ "uncompressed", "snappy", "zstd", "gzip", "lz4", "brotli" } do
  same(tally.read_parquet(dir .. "polars_" .. codec .. ".parquet"), pexp, "polars " .. codec)
end

-- columns: only those, in that order
local sub = tally.read_parquet(dir .. "types_zstd.parquet", { columns = { "s", "i32", "dt" } })
same(sub, expected:select("s", "i32", "dt"), "columns")
local none = tally.read_parquet(dir .. "groups.parquet", { columns = {} })
assert(none:ncol() == 0)
check_error("read_parquet: unknown option 'column' (did you mean 'columns'?)",
            tally.read_parquet, dir .. "groups.parquet", { column = { "g" } })
check_error("read_parquet: unknown option 'zzzzzzzzzz'",
            tally.read_parquet, dir .. "groups.parquet", { zzzzzzzzzz = 1 })
check_error("read_parquet: " .. dir .. "groups.parquet: unknown column 'gg' (the file has 'id', 'k', 'g')",
            tally.read_parquet, dir .. "groups.parquet", { columns = { "gg" } })
check_error("column 'g' listed twice",
            tally.read_parquet, dir .. "groups.parquet", { columns = { "g", "g" } })
check_error("read_parquet: option 'columns' must be a list of column names",
            tally.read_parquet, dir .. "groups.parquet", { columns = "g" })

-- data pages v2: a DELTA_BINARY_PACKED and a dictionary column
same(tally.read_parquet(dir .. "v2.parquet"),
     tally.read_csv(dir .. "v2.csv", { types = { id = "int", g = "string" } }), "v2")

-- what is not supported, named
check_error("read_parquet: " .. dir .. "u64_big.parquet: row group 0, column 'big', page 0: row 1: " ..
            "unsigned value 18446744073709551615 does not fit an int (int64)",
            tally.read_parquet, dir .. "u64_big.parquet")
local small = tally.read_parquet(dir .. "u64_big.parquet", { columns = { "small" } })
assert(#small == 1 and small.small[1] == 1)
check_error("read_parquet: " .. dir .. "nested.parquet: column 'list' is nested (a list, " ..
            "struct or map), which is not supported yet; the option columns can leave it out",
            tally.read_parquet, dir .. "nested.parquet")
assert(tally.read_parquet(dir .. "nested.parquet", { columns = { "id" } }).id[1] == 1)
assert(tally.read_parquet(dir .. "lz4.parquet").x:sum() == 45)
check_error("read_parquet: cannot open 'no/such.parquet': No such file or directory",
            tally.read_parquet, "no/such.parquet")

-- damaged files: an error naming the file and the part, never a crash
local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
local tmp = os.tmpname()
local function read_bytes(s)
  local f = assert(io.open(tmp, "wb"))
  f:write(s)
  f:close()
  return pcall(tally.read_parquet, tmp)
end
local function damaged(s, msg)
  local ok, err = read_bytes(s)
  assert(not ok, "expected an error: " .. msg)
  assert(string.find(err, "read_parquet: " .. tmp .. ": " .. msg, 1, true),
         "unexpected error: " .. err)
end
local le32 = function(n) return string.pack("<I4", n) end
local file = slurp(dir .. "types_uncompressed.parquet")
local flen = string.unpack("<I4", file, #file - 7)
local foot = file:sub(#file - 7 - flen, #file - 8)
damaged("XXX1" .. file:sub(5), "not a Parquet file (no PAR1 magic at its start and end)")
damaged(file:sub(1, -2), "not a Parquet file")
damaged(file:sub(1, -9) .. le32(#file) .. "PAR1", "footer: its length " .. #file ..
        " is past the start of the file")
damaged("PAR1" .. foot:sub(1, #foot // 2) .. le32(#foot // 2) .. "PAR1", "footer: ")
damaged(file:sub(1, -9) .. le32(flen + 1) .. "PAR1", "footer: ")
damaged(file:sub(1, -9) .. le32(flen - 1) .. "PAR1", "footer: ")
-- the first page header (at byte 4): an unknown field type, then a string
-- field whose length runs past the column chunk
damaged(file:sub(1, 4) .. "\x0f" .. file:sub(6), "row group 0, column 'b', page 0: page " ..
        "header at byte 4: unknown field type")
damaged(file:sub(1, 4) .. "\x48\xff\xff\xff\x0f" .. file:sub(10), "row group 0, column " ..
        "'b', page 0: page header at byte 4: string length past the end")
-- compressed data that does not decompress
local z = slurp(dir .. "types_zstd.parquet")
damaged(z:sub(1, 40) .. string.rep("\0", 30) .. z:sub(71), "row group 0, column 'b', page 0: " ..
        "ZSTD data does not decompress to its 50 bytes")

-- every truncation and every flipped byte of a small file: an error or a
-- table, never a crash (the ASan build runs this too)
local tiny = slurp(dir .. "nested.parquet")
for k = 0, #tiny - 1 do
  local ok, err = read_bytes(tiny:sub(1, k))
  assert(not ok and err:find("read_parquet: " .. tmp .. ": ", 1, true), err)
end
for k = 1, #tiny do
  local flipped = tiny:sub(1, k - 1) .. string.char(tiny:byte(k) ~ 0xff) .. tiny:sub(k + 1)
  local ok, err = read_bytes(flipped)
  assert(ok or err:find("read_parquet: " .. tmp .. ": ", 1, true), err)
end
-- the same over a file of data pages v2 with DELTA_BINARY_PACKED and
-- dictionary pages: each byte flipped, and each byte of its pages cut out
-- with the footer kept
local v2file = slurp(dir .. "v2.parquet")
for k = 1, #v2file do
  local flipped = v2file:sub(1, k - 1) .. string.char(v2file:byte(k) ~ 0x5a) .. v2file:sub(k + 1)
  local ok, err = read_bytes(flipped)
  assert(ok or err:find("read_parquet: " .. tmp .. ": ", 1, true), err)
end
local v2len = string.unpack("<I4", v2file, #v2file - 7)
local v2data = #v2file - 8 - v2len
for k = 5, v2data do
  local ok, err = read_bytes(v2file:sub(1, k - 1) .. v2file:sub(k + 1, v2data) .. "\0" ..
                             v2file:sub(v2data + 1))
  assert(ok or err:find("read_parquet: " .. tmp .. ": ", 1, true), err)
end
os.remove(tmp)
print("parquet: ok")
