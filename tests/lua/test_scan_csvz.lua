-- Lazy scans of compressed CSV files (gzip, zstd, and plain files in the
-- same list): every plan's scan(...):collect() against the same verbs on
-- read_csv of the uncompressed file, with morsels down to one byte of text,
-- on 1 and 3 threads; a bad record's error word for word read_csv's; a
-- truncated stream; and s:write_parquet from such a scan.
-- Run from the repository root: tally tests/lua/test_scan_csvz.lua

local tally = require "tally"
local testing = require "tally.testing"

local check = require "tests.lua.scan_check"
local check_error, same = check.check_error, check.same

local dir = check.tempdir()
local function path(name) return dir .. "/" .. name end

local function write(p, text)
  local f = assert(io.open(p, "wb"))
  f:write(text)
  f:close()
end

-- quoted fields with separators, quotes and line ends, a '"' inside an
-- unquoted field, CRLF line ends now and then, a comment-free input
local words = { "alpha", "beta", '"gamma, with a comma"', '"say ""hi"""', '"delta\nline"', "",
                'a 5" disk' }

local function gen(n, seed)
  math.randomseed(seed)
  local out = { "k,g,x,y,d" }
  for i = 1, n do
    local y = math.random(5) == 1 and "" or tostring(math.random(-50, 50))
    out[#out + 1] = string.format("%d,%s,%.3f,%s,2020-01-%02d%s", math.random(0, 4),
                                  words[math.random(#words)], math.random() * 100 - 20, y,
                                  math.random(1, 28), math.random(9) == 1 and "\r" or "")
  end
  return table.concat(out, "\n") .. (seed % 2 == 0 and "\n" or "")
end

local types = { k = "int", g = "string", x = "float", y = "int", d = "date" }

local plans = {
  { "collect", function(s) return s end },
  { "filter", function(s) return s:filter("x > 10 and k != 2") end },
  { "mutate", function(s) return s:mutate("z = x * 2 + k", "w = upper(g)") end },
  { "select", function(s) return s:select("g", "k") end },
  { "group_by", function(s) return s:group_by("k"):agg("n = count()", "s = sum(y)",
                                                       "f = first(g)") end },
  { "head", function(s) return s:head(5) end },
  { "top", function(s) return s:top(4, "-x") end },
  { "distinct", function(s) return s:distinct("k") end },
}

local function compress(p)
  assert(os.execute("gzip -kf '" .. p .. "'"))
  assert(os.execute("zstd -qf '" .. p .. "' -o '" .. p .. ".zst'"))
  return { p .. ".gz", p .. ".zst" }
end

for round, n in ipairs{ 0, 1, 40, 300 } do
  local p = path("r" .. round .. ".csv")
  write(p, gen(n, round))
  local whole = tally.read_csv(p, { types = types })
  for _, z in ipairs(compress(p)) do
    for _, threads in ipairs{ 1, 3 } do
      tally.threads(threads)
      for _, size in ipairs{ 1, 7, 100, 1 << 20 } do
        testing.set{ morsel_bytes = size }
        for _, pl in ipairs(plans) do
          local s = tally.scan(z, { types = types })
          same(pl[2](s):collect(), pl[2](whole),
               string.format("%s %s (%d threads, morsels of %d bytes)", z, pl[1], threads, size))
        end
      end
    end
  end
  tally.threads(0)
end

-- several files, compressed and not, in one scan; types inferred from the
-- samples and agreed (int meets float)
do
  local a, b = path("a.csv"), path("b.csv")
  write(a, "v,s\n1,x\n2,y\n")
  write(b, "v,s\n2.5,z\n")
  compress(a)
  local t = tally.scan{ a .. ".gz", b, a .. ".zst" }:collect()
  same(t, tally.from_columns{ { "v", { 1.0, 2.0, 2.5, 1.0, 2.0 } },
                              { "s", { "x", "y", "z", "x", "y" } } }, "list")
  assert(tally.scan(a .. ".gz"):explain():find("scan csv, decompressed in order: " .. a .. ".gz",
                                               1, true))
  write(b, "v,t\n2.5,z\n")
  check_error("scan: " .. b .. ": column 2 is 't', but 's' in " .. a .. ".gz", tally.scan,
              { a .. ".gz", b })
end

-- a bad record in the middle: read_csv's error, line and record exact
do
  local lines = { "id,v" }
  for i = 1, 500 do lines[#lines + 1] = i == 321 and "321,oops" or (i .. "," .. i * 2) end
  local p = path("bad.csv")
  write(p, table.concat(lines, "\n") .. "\n")
  for _, z in ipairs(compress(p)) do
    local _, want = pcall(tally.read_csv, z, { types = { id = "int", v = "int" } })
    want = tostring(want):match("read_csv: .*")
    assert(want:find(":322:2 (column 'v', record 321)", 1, true), want)
    for _, threads in ipairs{ 1, 3 } do
      tally.threads(threads)
      for _, size in ipairs{ 1, 64, 1000 } do
        testing.set{ morsel_bytes = size }
        local ok, err = pcall(function()
          return tally.scan(z, { types = { id = "int", v = "int" } }):collect()
        end)
        assert(not ok)
        assert(tostring(err):match("read_csv: .*") == want, tostring(err) .. " vs " .. want)
      end
    end
    tally.threads(0)
    -- inferred types: the same error, with the hint to give them
    check_error("(the scan inferred the types from the start of the input: give them in 'types')",
                function() return tally.scan(z, { sample_bytes = 100 }):collect() end)
  end
  -- a stream cut short
  local f = assert(io.open(p .. ".gz", "rb"))
  local bytes = f:read("a")
  f:close()
  write(path("cut.csv.gz"), bytes:sub(1, #bytes // 2))
  check_error("gzip: truncated (the data ends before the end of the stream)", function()
    return tally.scan(path("cut.csv.gz"), { types = { id = "int", v = "string" },
                                            sample_bytes = 10 }):collect()
  end)
  f = assert(io.open(p .. ".zst", "rb"))
  bytes = f:read("a")
  f:close()
  write(path("cut.csv.zst"), bytes:sub(1, #bytes - 5))
  check_error("zstd: truncated", function()
    return tally.scan(path("cut.csv.zst"), { types = { id = "int", v = "string" },
                                             sample_bytes = 10 }):collect()
  end)
end

-- streamed into Parquet, head stops early
do
  local p = path("r4.csv")
  local whole = tally.read_csv(p, { types = types })
  local out = path("out.parquet")
  testing.set{ morsel_bytes = 50 }
  tally.scan(p .. ".zst", { types = types }):filter("k > 0")
    :write_parquet(out, { row_group_size = 17 })
  same(tally.read_parquet(out), whole:filter("k > 0"), "write_parquet from zstd")
  same(testing.with({ morsel_bytes = 1 }, function()
         return tally.scan(p .. ".gz", { types = types }):head(3):collect()
       end), whole:head(3), "head")
end

-- a damaged stream (a gzip member whose CRC does not match its text) is
-- read_csv's error, word for word, from a scan as from the reader
do
  local data = assert(io.open("tests/data/compressed/jica_training.csv.gz", "rb")):read("a")
  local k = #data - 7   -- the first byte of the member's CRC-32
  local p = path("bad_crc.csv.gz")
  write(p, data:sub(1, k - 1) .. string.char(data:byte(k) ~ 0x5a) .. data:sub(k + 1))
  local ok, want = pcall(tally.read_csv, p)
  assert(not ok and tostring(want):find("gzip: damaged data (", 1, true),
         "read_csv of a bad CRC: " .. tostring(want))
  for _, mb in ipairs{ 0, 64 } do
    testing.set{ morsel_bytes = mb }
    local ok2, got = pcall(function() return tally.scan(p):collect() end)
    assert(not ok2 and tostring(got):find(tostring(want), 1, true),
           ("scan of a bad CRC (morsel %d): %s, want %s"):format(mb, tostring(got), tostring(want)))
  end
  testing.set{ morsel_bytes = 0 }
end

os.execute("rm -rf '" .. dir .. "'")
print("test_scan_csvz: ok")
