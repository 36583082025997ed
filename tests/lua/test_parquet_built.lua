-- tally.read_parquet of files this test builds byte by byte, for what neither
-- DuckDB nor Polars writes here: INT96 timestamps, DELTA_BYTE_ARRAY, the
-- legacy LZ4 codec (Hadoop's framing, and a bare block), FIXED_LEN_BYTE_ARRAY
-- decimals, and the DELTA_BINARY_PACKED examples of the format's spec.

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error: " .. msg)
  assert(string.find(err, msg, 1, true), "unexpected error: " .. tostring(err))
  return err
end

-- The Thrift compact protocol, enough for a footer and a page header. A
-- struct is a list of { id, type, value }, ids ascending.
local function varint(n)
  local out = {}
  repeat
    local b = n & 0x7f
    n = n >> 7
    out[#out + 1] = string.char(n ~= 0 and (b | 0x80) or b)
  until n == 0
  return table.concat(out)
end
local function zz(n) return varint((n << 1) ~ (n < 0 and -1 or 0)) end
local T = { bool = 1, i32 = 5, i64 = 6, bin = 8, list = 9, struct = 12 }
local value
local function struct(fields)
  local out, last = {}, 0
  for _, f in ipairs(fields) do
    local id, ty, v = f[1], f[2], f[3]
    local code = ty == "bool" and (v and 1 or 2) or T[ty]
    out[#out + 1] = string.char(((id - last) << 4) | code)
    last = id
    if ty ~= "bool" then out[#out + 1] = value(ty, v) end
  end
  return table.concat(out) .. "\0"
end
value = function(ty, v)
  if ty == "i32" or ty == "i64" then return zz(v) end
  if ty == "bin" then return varint(#v) .. v end
  if ty == "struct" then return struct(v) end
  if ty == "list" then                    -- { elemtype, {values} }
    local et, items = v[1], v[2]
    local parts = { #items < 15 and string.char((#items << 4) | T[et])
                    or string.char(0xf0 | T[et]) .. varint(#items) }
    for _, x in ipairs(items) do parts[#parts + 1] = value(et, x) end
    return table.concat(parts)
  end
  error("type " .. ty)
end

-- A file of one required column: `schema` the fields of its SchemaElement
-- (the name 'x' added), `pages` a list of { encoding, nvalues, body,
-- usize } data pages v1, compressed with `codec`.
local function build(schema, ptype, codec, pages, nrows)
  local data, offset = { "PAR1" }, 4
  for _, pg in ipairs(pages) do
    local header = struct{
      { 1, "i32", 0 }, { 2, "i32", pg.usize or #pg.body }, { 3, "i32", #pg.body },
      { 5, "struct", { { 1, "i32", pg.n }, { 2, "i32", pg.enc }, { 3, "i32", 3 },
                       { 4, "i32", 3 } } },
    }
    data[#data + 1] = header .. pg.body
  end
  local chunk = table.concat(data):sub(5)
  local elem = { { 1, "i32", ptype } }
  for _, f in ipairs(schema) do elem[#elem + 1] = f end
  elem[#elem + 1] = { 3, "i32", 0 }
  elem[#elem + 1] = { 4, "bin", "x" }
  table.sort(elem, function(a, b) return a[1] < b[1] end)
  local footer = struct{
    { 1, "i32", 1 },
    { 2, "list", { "struct", { { { 4, "bin", "schema" }, { 5, "i32", 1 } }, elem } } },
    { 3, "i64", nrows },
    { 4, "list", { "struct", { {
      { 1, "list", { "struct", { {
        { 2, "i64", offset },
        { 3, "struct", {
          { 1, "i32", ptype }, { 2, "list", { "i32", { 0 } } }, { 3, "list", { "bin", { "x" } } },
          { 4, "i32", codec }, { 5, "i64", nrows }, { 6, "i64", #chunk }, { 7, "i64", #chunk },
          { 9, "i64", offset },
        } },
      } } } },
      { 2, "i64", #chunk }, { 3, "i64", nrows },
    } } } },
  }
  return "PAR1" .. chunk .. footer .. string.pack("<I4", #footer) .. "PAR1"
end

local tmp = os.tmpname()
local function read(bytes, opts)
  local f = assert(io.open(tmp, "wb"))
  f:write(bytes)
  f:close()
  return tally.read_parquet(tmp, opts)
end
local function values(t)
  local out = {}
  for i = 1, #t.x do out[i] = t.x[i] end
  return out
end
local function same(got, want, what)
  assert(#got == #want, what .. ": " .. #got .. " values")
  for i = 1, #want do
    assert(got[i] == want[i], string.format("%s: value %d: %s, not %s", what, i,
                                            tostring(got[i]), tostring(want[i])))
  end
end
local PLAIN, DBP, DBA = 0, 5, 7
local INT32, INT64, INT96, FLBA, BYTE_ARRAY = 1, 2, 3, 7, 6

-- INT96: nanoseconds of the day, then the Julian day (2440588 is 1970-01-01)
local function int96(day, nanos) return string.pack("<i8<i4", nanos, day) end
local body = int96(2440588, 0) .. int96(2451545, 43200000001000) ..
             int96(2440587, 86399500000000) .. int96(2440589, 999)
local t = read(build({}, INT96, 0, { { enc = PLAIN, n = 4, body = body } }, 4))
assert(t.x:type() == "timestamp")
same(values(t), { "1970-01-01T00:00:00", "2000-01-01T12:00:00.000001",
                  "1969-12-31T23:59:59.500000", "1970-01-02T00:00:00" }, "INT96")

-- a Julian day so far off that its microseconds do not fit 64 bits
check_error("row group 0, column 'x', page 0: row 2: INT96 timestamp out of range",
            read, build({}, INT96, 0, { { enc = PLAIN, n = 2,
                                          body = int96(2440588, 0) .. int96(2147483647, 0) } }, 2))

-- DELTA_BINARY_PACKED, the spec's examples: 1..5 (every delta 1: bit width
-- 0, no miniblock bytes), then 7 5 3 1 2 3 4 5 (min delta -2, width 2)
local function dbp_header(count, first) return varint(128) .. varint(4) .. varint(count) .. zz(first) end
local ex1 = dbp_header(5, 1) .. zz(1) .. "\0\0\0\0"
same(values(read(build({}, INT32, 0, { { enc = DBP, n = 5, body = ex1 } }, 5))),
     { 1, 2, 3, 4, 5 }, "delta example 1")
-- relative deltas 0 0 0 3 3 3 3 (then padding) in 2 bits, least significant first
local ex2 = dbp_header(8, 7) .. zz(-2) .. "\2\0\0\0" .. string.char(0xc0, 0xff) .. string.rep("\0", 6)
same(values(read(build({}, INT64, 0, { { enc = DBP, n = 8, body = ex2 } }, 8))),
     { 7, 5, 3, 1, 2, 3, 4, 5 }, "delta example 2")
-- a miniblock needed but cut short, and a block with no bit widths
check_error("row group 0, column 'x', page 0: DELTA_BINARY_PACKED: delta miniblock past the end",
            read, build({}, INT64, 0, { { enc = DBP, n = 8, body = ex2:sub(1, -3) } }, 8))
check_error("DELTA_BINARY_PACKED: delta block: bit widths cut short",
            read, build({}, INT64, 0, { { enc = DBP, n = 8, body = dbp_header(8, 7) .. zz(-2) } }, 8))

-- DELTA_BYTE_ARRAY: prefix lengths (delta-packed), then the suffixes as
-- DELTA_LENGTH_BYTE_ARRAY (lengths delta-packed, then the bytes)
local function dbp8(vals)                -- one block, 8-bit deltas
  local deltas, min = {}, math.maxinteger
  for i = 2, #vals do deltas[#deltas + 1] = vals[i] - vals[i - 1]; min = math.min(min, deltas[#deltas]) end
  if #deltas == 0 then return dbp_header(#vals, vals[1]) end
  local mini = {}
  for i = 1, 32 do mini[i] = string.char(deltas[i] and deltas[i] - min or 0) end
  return dbp_header(#vals, vals[1]) .. zz(min) .. "\8\8\8\8" .. table.concat(mini)
end
local words = { "apple", "applet", "apply", "banana", "band", "", "bandana" }
local pre, suf, lens = {}, {}, {}
for i, w in ipairs(words) do
  local p = 0
  local prev = words[i - 1] or ""
  while p < #w and p < #prev and w:sub(p + 1, p + 1) == prev:sub(p + 1, p + 1) do p = p + 1 end
  pre[i], suf[i], lens[i] = p, w:sub(p + 1), #w - p
end
local dba = dbp8(pre) .. dbp8(lens) .. table.concat(suf)
t = read(build({ { 6, "i32", 0 } }, BYTE_ARRAY, 0, { { enc = DBA, n = #words, body = dba } },
               #words))
same(values(t), words, "DELTA_BYTE_ARRAY")
-- a prefix longer than the value before it
local bad = dbp8({ 0, 9 }) .. dbp8({ 1, 1 }) .. "ab"
check_error("DELTA_BYTE_ARRAY: prefix longer than the value before",
            read, build({}, BYTE_ARRAY, 0, { { enc = DBA, n = 2, body = bad } }, 2))

-- the legacy LZ4 codec: an LZ4 block of literals only, in Hadoop's framing
-- (big-endian sizes) and bare, as some writers left it
local function lz4_literals(s)
  local n, out = #s, {}
  if n < 15 then return string.char(n << 4) .. s end
  out[1] = string.char(0xf0)
  local rest = n - 15
  while rest >= 255 do out[#out + 1] = "\255"; rest = rest - 255 end
  out[#out + 1] = string.char(rest)
  return table.concat(out) .. s
end
local ints = {}
for i = 1, 40 do ints[i] = string.pack("<i8", i * i - 700) end
local raw = table.concat(ints)
local block = lz4_literals(raw)
local hadoop = string.pack(">I4>I4", #raw, #block) .. block
local want = {}
for i = 1, 40 do want[i] = i * i - 700 end
for name, framed in pairs{ hadoop = hadoop, bare = block,
                           two = string.pack(">I4>I4", 160, #lz4_literals(raw:sub(1, 160))) ..
                                 lz4_literals(raw:sub(1, 160)) ..
                                 string.pack(">I4>I4", 160, #lz4_literals(raw:sub(161))) ..
                                 lz4_literals(raw:sub(161)) } do
  t = read(build({}, INT64, 5, { { enc = PLAIN, n = 40, body = framed, usize = #raw } }, 40))
  same(values(t), want, "LZ4 " .. name)
end
check_error("row group 0, column 'x', page 0: LZ4 data does not decompress to its 320 bytes",
            read, build({}, INT64, 5, { { enc = PLAIN, n = 40, body = hadoop:sub(1, -2),
                                         usize = #raw } }, 40))

-- FIXED_LEN_BYTE_ARRAY decimals, big-endian two's complement: DECIMAL(10, 2)
-- in 5 bytes, and DECIMAL(30, 3) in 13
local function be(n, w)                  -- n fits 64 bits; sign-extended to w bytes
  local s = string.pack(">i8", n)
  return string.rep(n < 0 and "\255" or "\0", w - 8) .. s
end
local dec5 = be(-150, 8):sub(4) .. be(1234567891, 8):sub(4) .. be(0, 8):sub(4)
t = read(build({ { 2, "i32", 5 }, { 6, "i32", 5 }, { 7, "i32", 2 }, { 8, "i32", 10 } }, FLBA, 0,
               { { enc = PLAIN, n = 3, body = dec5 } }, 3))
assert(t.x:type() == "float")
same(values(t), { -1.5, 12345678.91, 0 }, "decimal(10, 2)")
local dec13 = be(-123456789012345, 13) .. be(42, 13)
t = read(build({ { 2, "i32", 13 }, { 6, "i32", 5 }, { 7, "i32", 3 }, { 8, "i32", 30 } }, FLBA, 0,
               { { enc = PLAIN, n = 2, body = dec13 } }, 2))
same(values(t), { -123456789012.345, 0.042 }, "decimal(30, 3)")
-- DECIMAL(20, 2) as BYTE_ARRAY: each value as few bytes as it needs
local varbytes = { "\255\106", "\0\255", "\1", "", string.rep("\255", 9) .. "\0" }
local plainvar = {}
for i, b in ipairs(varbytes) do plainvar[i] = string.pack("<I4", #b) .. b end
t = read(build({ { 6, "i32", 5 }, { 7, "i32", 2 }, { 8, "i32", 20 } }, BYTE_ARRAY, 0,
               { { enc = PLAIN, n = #varbytes, body = table.concat(plainvar) } }, #varbytes))
same(values(t), { -1.5, 2.55, 0.01, 0, -2.56 }, "decimal(20, 2) in byte arrays")
-- BYTE_STREAM_SPLIT of FIXED_LEN_BYTE_ARRAY(3) decimals: byte k of every value, then k + 1
local d3 = { be(1000, 8):sub(6), be(-2, 8):sub(6), be(70000, 8):sub(6) }
local streams = {}
for k = 1, 3 do
  local bytes = {}
  for i = 1, 3 do bytes[i] = d3[i]:sub(k, k) end
  streams[k] = table.concat(bytes)
end
t = read(build({ { 2, "i32", 3 }, { 6, "i32", 5 }, { 7, "i32", 1 }, { 8, "i32", 6 } }, FLBA, 0,
               { { enc = 9, n = 3, body = table.concat(streams) } }, 3))
same(values(t), { 100, -0.2, 7000 }, "BYTE_STREAM_SPLIT decimals")
-- without a decimal annotation a fixed-length byte array is not read
check_error("column 'x': physical type FIXED_LEN_BYTE_ARRAY is not supported yet",
            read, build({ { 2, "i32", 4 } }, FLBA, 0, { { enc = PLAIN, n = 1, body = "abcd" } }, 1))

-- every prefix of a built file is an error, never a crash
local whole = build({}, INT96, 0, { { enc = PLAIN, n = 4, body = body } }, 4)
for k = 0, #whole - 1 do
  local ok, err = pcall(read, whole:sub(1, k))
  assert(not ok and err:find("read_parquet: " .. tmp .. ": ", 1, true), err)
end
os.remove(tmp)
print("parquet built: ok")
