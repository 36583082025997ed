-- A Parquet row group read by a scan a batch of rows at a time: a file of
-- one large row group (many pages, a dictionary, nulls) scanned with small
-- batches equals read_parquet, row for row, whatever the batch size and the
-- threads; the fixture files of other writers (v1 and v2 pages, every codec)
-- too, down to batches of one row; and such a scan runs under a memory
-- limit that the whole row group does not fit in.
-- TALLY_SCAN_PQ_ROWS sets the rows of the file for the memory limit
-- (default 1500000); the file compared row for row has 300000.
-- Run from the repository root: tally tests/lua/test_scan_parquet_rows.lua

local tally = require "tally"
local testing = require "tally.testing"

local check = require "tests.lua.scan_check"
local same = check.same

local N = tonumber(os.getenv("TALLY_SCAN_PQ_ROWS") or "") or 1500000

local function tmpname(ext)
  local p = os.tmpname()
  os.remove(p)
  return p .. ext
end

-- i (int), x (float, a null every 7th row), s (1000 distinct strings, a
-- dictionary, a null every 11th), u (unique strings: plain pages), b (bool)
local function big(n)
  local i, x, s = {}, {}, {}
  for r = 1, n do
    i[r] = r
    x[r] = r % 7 == 0 and tally.null or r / 4
    s[r] = r % 11 == 0 and tally.null or "k" .. (r * 7919 % 1000)
  end
  return tally.from_columns{ { "i", i }, { "x", x }, { "s", s } }
    :mutate("u = 'row ' .. string(i)", "b = i % 3 == 0")
end

local path = tmpname(".parquet")
big(300000):write_parquet(path, { row_group_size = 300000 })
collectgarbage()
collectgarbage()
local whole = tally.read_parquet(path)
assert(#whole == 300000)

local plans = {
  { "collect", function(s) return s end },
  { "filter", function(s) return s:filter("i % 1000 == 3 or is_null(x)"):select("i", "s", "u") end },
  { "agg", function(s) return s:agg("n = count()", "c = count(x)", "m = sum(x)", "f = first(u)",
                                    "l = last(s)", "t = sum(int(b))") end },
  { "group_by", function(s) return s:group_by("s"):agg("n = count()", "l = last(i)") end },
  { "head", function(s) return s:filter("i > 262100"):head(50) end },
}

-- batches that start and end inside pages (of 131072 rows), one that is a
-- page, and more than the row group
for _, threads in ipairs({ 1, 3 }) do
  tally.threads(threads)
  for _, rows in ipairs({ 50000, 131072, 300007 }) do
    for _, p in ipairs(plans) do
      local got = testing.with({ batch_rows = rows }, function()
        return p[2](tally.scan(path)):collect()
      end)
      same(got, p[2](whole), string.format("%s, batches of %d rows, %d threads", p[1], rows,
                                            threads))
    end
  end
end

-- other writers' files: v2 pages, codecs, several row groups, cut into
-- batches of 1, 2 and 3 rows
for _, f in ipairs({ "types_snappy", "types_v2", "groups_v2", "groups", "polars_zstd", "lz4",
                     "types_gzip", "polars_types_lz4" }) do
  local p = "tests/data/parquet/" .. f .. ".parquet"
  local want = tally.read_parquet(p)
  for _, rows in ipairs({ 1, 2, 3 }) do
    local got = testing.with({ batch_rows = rows }, function() return tally.scan(p):collect() end)
    same(got, want, f .. ", batches of " .. rows .. " rows")
  end
end

-- Memory: the whole row group does not fit under the limit, the scan in
-- batches does (one thread: one page being decoded at a time)
do
  os.remove(path)
  whole = nil
  big(N):write_parquet(path, { row_group_size = N })
  tally.threads(1)
  collectgarbage()
  collectgarbage()
  local was, used = tally.memory_limit()
  local room = 12 * 1000 * 1000 * N // 1500000    -- the whole row group takes over 60 MB
  tally.memory_limit(used + room)
  local ok, err = pcall(tally.read_parquet, path)
  local ok2, got = pcall(testing.with, { batch_rows = 20000 }, function()
    return tally.scan(path):agg("n = count()", "c = count(x)", "cu = count(u)", "cs = count(s)",
                                "m = max(i)", "t = sum(int(b))"):collect()
  end)
  tally.memory_limit(was)
  assert(not ok and tostring(err):find("out of memory", 1, true), tostring(err))
  assert(ok2, tostring(got))
  local want = tally.read_parquet(path):agg("n = count()", "c = count(x)", "cu = count(u)",
                                            "cs = count(s)", "m = max(i)", "t = sum(int(b))")
  same(got, want, "agg under the memory limit")
end

os.remove(path)
print("test_scan_parquet_rows: ok")
