-- read_csv of gzip and zstd files (tests/data/compressed, written by
-- make.sh there): known by their first bytes, not their names, and read as
-- the plain file is read: the same table and types, the same rejects, the
-- same errors with the same line and record numbers (the name being the
-- compressed file's). Damaged and truncated input is an error naming the
-- file and what is wrong.
-- Run from the repository root: tally tests/lua/test_csv_compressed.lua

local tally = require "tally"
local dir = "tests/data/compressed/"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
  return err
end

local function show(t)
  local out = { table.concat(t:names(), "|") }
  for _, name in ipairs(t:names()) do out[#out + 1] = name .. ":" .. t:col(name):type() end
  for _, r in t:rows() do
    local cells = {}
    for j = 1, t:ncol() do cells[j] = tostring(r[j]) end
    out[#out + 1] = table.concat(cells, "|")
  end
  return table.concat(out, "\n")
end

local function slurp(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function spit(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end

-- the same table, the same rejects ---------------------------------------------
for _, name in ipairs({ "jica_training", "jdr_dispatches", "mixed" }) do
  local plain = dir .. name .. ".csv"
  local opts = { on_error = "skip", progress = false }
  local want = tally.read_csv(plain, opts)
  for _, ext in ipairs({ ".gz", ".zst" }) do
    local got = tally.read_csv(plain .. ext, opts)
    assert(show(got) == show(want), name .. ext .. ": another table")
    assert(show(got:rejects()) == show(want:rejects()), name .. ext .. ": other rejects")
  end
end
do
  local want = tally.read_csv(dir .. "mixed.csv", { on_error = "skip", progress = false })
  assert(#want:rejects() == 4, "mixed.csv has four bad records")
  -- several gzip members are one text; a name without an extension is no matter
  for _, f in ipairs({ "two.csv.gz", "noext" }) do
    local got = tally.read_csv(dir .. f, { on_error = "skip", progress = false })
    assert(show(got) == show(want) and show(got:rejects()) == show(want:rejects()), f)
  end
  -- read_csv_string of compressed bytes
  local got = tally.read_csv_string(slurp(dir .. "mixed.csv.gz"), { on_error = "skip" })
  assert(show(got) == show(want), "read_csv_string of gzip bytes")
  -- columns and max_rows act on the text
  local c = tally.read_csv(dir .. "mixed.csv.zst", { columns = { "x" }, max_rows = 50,
                                                      progress = false })
  assert(c:ncol() == 1 and #c == 50 and c.x[50] == "50" and c.x[13] == "13.25", show(c))
end

-- the same errors, lines and records included ------------------------------------
do
  local _, want = pcall(tally.read_csv, dir .. "mixed.csv")
  want = tostring(want)
  local where = want:match("mixed%.csv(:%d+.*)$")
  assert(where and want:find("record", 1, true), want)
  for _, ext in ipairs({ ".gz", ".zst" }) do
    check_error("read_csv: " .. dir .. "mixed.csv" .. ext .. where, tally.read_csv,
                dir .. "mixed.csv" .. ext)
  end
end

-- damaged and truncated -----------------------------------------------------------
do
  local tmp = os.tmpname()
  local gz, zst = slurp(dir .. "mixed.csv.gz"), slurp(dir .. "mixed.csv.zst")
  for _, cut in ipairs({ 10, #gz // 2, #gz - 5 }) do
    spit(tmp, gz:sub(1, cut))
    check_error(tmp .. ": gzip: truncated", tally.read_csv, tmp)
  end
  for _, cut in ipairs({ 10, #zst // 2, #zst - 3 }) do
    spit(tmp, zst:sub(1, cut))
    check_error(tmp .. ": zstd: truncated", tally.read_csv, tmp)
  end
  -- a flipped byte in the deflate data, in the gzip trailer's CRC
  local mid = #gz // 2
  spit(tmp, gz:sub(1, mid - 1) .. string.char(gz:byte(mid) ~ 0xff) .. gz:sub(mid + 1))
  check_error(tmp .. ": gzip: damaged data", tally.read_csv, tmp)
  spit(tmp, gz:sub(1, #gz - 8) .. string.char(gz:byte(#gz - 7) ~ 1) .. gz:sub(#gz - 6))
  check_error(tmp .. ": gzip: damaged data (incorrect data check)", tally.read_csv, tmp)
  spit(tmp, gz .. "trailing")
  check_error(tmp .. ": gzip: bytes after the end of the compressed data", tally.read_csv, tmp)
  spit(tmp, zst:sub(1, 4) .. string.rep("\255", 40))
  check_error(tmp .. ": zstd: damaged data", tally.read_csv, tmp)
  -- a byte range of compressed bytes is refused
  check_error("needs an uncompressed file", tally.read_csv, dir .. "mixed.csv.gz",
              { range_start = 10, range_stop = 100 })
  os.remove(tmp)
end

print("test_csv_compressed: ok")
