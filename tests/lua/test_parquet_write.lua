-- t:write_parquet: round trips through tally's own reader (every type, nulls,
-- NaN and -0.0, empty and one-row tables, many row groups, the codecs,
-- dictionary columns and plain strings of low and high cardinality),
-- options and errors, no partial file on failure or interrupt; then
-- tally.read / t:write by extension and `tally FILE` on the command line.
-- Run from the repository root: tally tests/lua/test_parquet_write.lua

local exe = assert(arg[-1], "run this script with the tally executable")
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p '" .. dir .. "'"))
local function path(name) return dir .. "/" .. name end
local function exists(p)
  local f = io.open(p, "rb")
  if f then f:close() end
  return f ~= nil
end

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error: " .. msg)
  assert(string.find(err, msg, 1, true), "unexpected error: " .. tostring(err))
  return err
end

local function same(a, b, what)
  assert(#a == #b, what .. ": " .. #a .. " rows, want " .. #b)
  local an, bn = a:names(), b:names()
  assert(#an == #bn, what .. ": column count")
  for j, name in ipairs(bn) do
    assert(an[j] == name, what .. ": column " .. j .. " is " .. tostring(an[j]))
    local x, y = a:col(name), b:col(name)
    assert(x:type() == y:type(), what .. ": " .. name .. " is " .. x:type() .. ", not " .. y:type())
    assert(x:nulls() == y:nulls(), what .. ": " .. name .. " nulls " .. x:nulls() .. " vs " .. y:nulls())
    for i = 1, #y do
      local u, v = x[i], y[i]
      local eq = u == v or (u ~= u and v ~= v)                      -- NaN
      if eq and type(v) == "number" and v == 0 then eq = 1 / u == 1 / v end   -- -0.0
      assert(eq, string.format("%s: %s row %d: %s vs %s", what, name, i, tostring(u), tostring(v)))
    end
  end
end

-- a table of every type, with nulls, built as CSV text
local types = { b = "bool", i = "int", f = "float", s = "string", low = "string", d = "date",
                ts = "timestamp" }
local function make(n)
  local lines = { "b,i,f,s,low,d,ts" }
  local specials = { "nan", "inf", "-inf", "-0.0", "0.0", "1e308", "5e-324" }
  for r = 1, n do
    local b = r % 7 == 0 and "" or tostring(r % 3 == 0)
    local i = r % 5 == 0 and "" or tostring((r * 1000000007) % 99999999989 - 49999999999)
    if r == 2 then i = "9223372036854775807" elseif r == 3 then i = "-9223372036854775808" end
    local f = r % 11 == 0 and "" or (specials[r % 13] or string.format("%.17g", r * 0.37 - 50))
    local s = r % 13 == 0 and "" or ("text " .. r * r)
    if r == 4 then s = '"é, ""quoted"" \nline"' end
    local low = r % 4 == 0 and "" or ({ "red", "green", "blue", "été" })[r % 4]
    local d = r % 9 == 0 and "" or string.format("%04d-%02d-%02d", 1900 + r % 200, r % 12 + 1, r % 28 + 1)
    local ts = r % 6 == 0 and "" or string.format("%04d-%02d-%02d %02d:%02d:%02d.%06d", 1950 + r % 100,
      r % 12 + 1, r % 28 + 1, r % 24, r % 60, (r * 7) % 60, (r * 7919) % 1000000)
    lines[#lines + 1] = table.concat({ b, i, f, s, low, d, ts }, ",")
  end
  return tally.read_csv_string(table.concat(lines, "\n") .. "\n", { types = types })
end

local t = make(3000)
assert(#t == 3000 and t:ncol() == 7 and t.b:nulls() > 0 and t.ts:nulls() > 0)

-- the default (zstd, one row group), then every codec the reader reads, with
-- many row groups (7 rows: pages and row groups cut off the byte boundary)
local p = path("t.parquet")
t:write_parquet(p)
same(tally.read_parquet(p), t, "default")
for _, codec in ipairs{ "zstd", "snappy", "gzip", "none" } do
  for _, rg in ipairs{ 7, 1024, 1 << 20 } do
    t:write_parquet(p, { compression = codec, row_group_size = rg })
    same(tally.read_parquet(p), t, codec .. " row_group_size " .. rg)
  end
end
-- lz4 (LZ4_RAW) writes; tests/interop/parquet_write.sh reads it with DuckDB and Polars
t:write_parquet(path("lz4.parquet"), { compression = "lz4" })
assert(exists(path("lz4.parquet")))

-- dictionary encoding: a low-cardinality column is smaller than the same
-- strings all distinct, and both read back
local n = 50000
local low, high = {}, {}
for r = 1, n do low[r] = "value " .. r % 10; high[r] = "value " .. r end
local lh = tally.from_columns{ {"low", low}, {"high", high} }
lh:select("low"):write_parquet(path("low.parquet"), { compression = "none" })
lh:select("high"):write_parquet(path("high.parquet"), { compression = "none" })
local function size(q) local f = io.open(q, "rb") local s = f:seek("end") f:close() return s end
assert(size(path("low.parquet")) * 20 < size(path("high.parquet")),
       size(path("low.parquet")) .. " vs " .. size(path("high.parquet")))
same(tally.read_parquet(path("low.parquet")), lh:select("low"), "low cardinality")
same(tally.read_parquet(path("high.parquet")), lh:select("high"), "high cardinality")

-- dictionary columns (as read_parquet gives them from DuckDB's files), over
-- row groups that use different parts of the dictionary
for _, name in ipairs{ "types_zstd", "groups", "polars_snappy" } do
  local src = tally.read_parquet("tests/data/parquet/" .. name .. ".parquet")
  for _, rg in ipairs{ 3, 100000 } do
    src:write_parquet(p, { row_group_size = rg })
    same(tally.read_parquet(p), src, name .. " " .. rg)
  end
end

-- row groups of one row: the chunks of a null (in the dictionary column
-- `low` too, whose chunk then has no dictionary entry) hold no value
t:head(20):write_parquet(p, { row_group_size = 1 })
same(tally.read_parquet(p), t:head(20), "row groups of one row")

-- empty, one row, all nulls
t:head(0):write_parquet(p)
local e = tally.read_parquet(p)
same(e, t:head(0), "empty")
t:head(1):write_parquet(p, { row_group_size = 1 })
same(tally.read_parquet(p), t:head(1), "one row")
local nulls = tally.read_csv_string("a,b,c\n,,\n,,\n", { types = { a = "int", b = "string", c = "date" } })
nulls:write_parquet(p)
same(tally.read_parquet(p), nulls, "all nulls")

-- options
check_error("write_parquet: unknown option 'compresion' (did you mean 'compression'?)",
            t.write_parquet, t, p, { compresion = "zstd" })
check_error("write_parquet: unknown compression 'brotli' (one of zstd, snappy, gzip, lz4, none)",
            t.write_parquet, t, p, { compression = "brotli" })
check_error("write_parquet: option 'compression' must be a string", t.write_parquet, t, p,
            { compression = 3 })
check_error("write_parquet: option 'row_group_size' must be an integer in [1, 2147483647], got 0",
            t.write_parquet, t, p, { row_group_size = 0 })
check_error("write_parquet: options must be a table", t.write_parquet, t, p, "zstd")

-- a failure names the file and leaves no file behind (nor a .tmp), and an
-- existing file stays as it was
local bad = path("no/such/dir/x.parquet")
check_error("write_parquet: " .. bad .. ": cannot open", t.write_parquet, t, bad)
t:head(5):write_parquet(p)
local utf = tally.from_columns{ {"s", { "ok", "bad \xff byte" }} }
check_error("write_parquet", utf.write_parquet, utf, p)
same(tally.read_parquet(p), t:head(5), "kept after a failed write")
assert(not exists(p .. ".tmp"))
check_error("write_parquet", utf.write_parquet, utf, path("never.parquet"))
assert(not exists(path("never.parquet")) and not exists(path("never.parquet.tmp")))

-- an interrupt stops the write and leaves no file
do
  local script = path("intr.lua")
  local f = assert(io.open(script, "w"))
  f:write(string.format([[
local p = %q
local v = {}
for i = 1, 300000 do v[i] = "s" .. i end
local w = tally.from_columns{ {"x", v} }
local ok, e = pcall(function() os.execute("(sleep 0.2; kill -INT $PPID) &") while true do end end)
assert(not ok and e:find("interrupted", 1, true), e)
local ok2, e2 = pcall(w.write_parquet, w, p)
assert(not ok2 and e2:find("write_parquet: interrupted", 1, true), tostring(e2))
local g = io.open(p, "rb")
assert(not g and not io.open(p .. ".tmp", "rb"), "a file was left")
print("interrupted cleanly")
]], path("intr.parquet")))
  f:close()
  local h = io.popen(string.format("'%s' '%s' 2>&1", exe, script))
  local out = h:read("a")
  h:close()
  assert(out:find("interrupted cleanly", 1, true), out)
end

-- tally.read / t:write pick the format from the extension
local small = t:head(40)
for _, ext in ipairs{ "parquet", "csv", "json", "ndjson", "jsonl", "PARQUET" } do
  local q = path("r." .. ext)
  small:write(q)
  local back = tally.read(q)
  assert(#back == 40 and back:ncol() == 7, ext)
  assert(back.i:sum() == small.i:sum() and back.s[7] == small.s[7], ext)
end
same(tally.read(path("r.parquet")), small, "read .parquet")
small:write(path("o.parquet"), { compression = "gzip", row_group_size = 3 })
same(tally.read(path("o.parquet")), small, "write with options")
check_error("write_parquet: unknown option 'level'", small.write, small, path("o.parquet"),
            { level = 3 })
do
  local f = assert(io.open(path("x.tsv"), "w"))
  f:write("a\tb\n1\tx y\n2\tz\n")
  f:close()
  local tsv = tally.read(path("x.tsv"))
  assert(#tsv == 2 and tsv.a:sum() == 3 and tsv.b[1] == "x y")
  assert(#tally.read(path("x.tsv"), { header = false }) == 3)
end
local err = check_error("read: " .. path("x.xlsx") .. ": unknown file extension (known: .csv, .tsv, "
                        .. ".json, .ndjson, .jsonl, .parquet", tally.read, path("x.xlsx"))
err = check_error("write: " .. path("x.tsv") .. ": unknown file extension (known: .csv, .json",
                  small.write, small, path("x.tsv"))
assert(not err:find(".tsv,", 1, true), err)
check_error("read_csv: ", tally.read, path("missing.csv"))
check_error("read: options must be a table", tally.read, path("r.csv"), 5)

-- `tally FILE` opens any data file as t
do
  local out = path("cli.out")
  local cmd = string.format("echo 'print(#t, t.i:sum())' | '%s' '%s' >'%s' 2>&1", exe,
                            path("r.parquet"), out)
  os.execute(cmd)
  local f = assert(io.open(out, "rb"))
  local o = f:read("a")
  f:close()
  assert(o:find("t = " .. path("r.parquet") .. ": 40 rows x 7 columns", 1, true), o)
  assert(o:find("40\t" .. tostring(small.i:sum()), 1, true), o)
end

os.execute("rm -rf '" .. dir .. "'")
print("test_parquet_write: ok")
