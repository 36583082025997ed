-- tally.read and t:write by extension: compressed CSV and TSV (.csv.gz,
-- .csv.zst, .tsv.gz, .tsv.zst) and tally's own files (.tally), as the
-- command line opens them (`tally FILE`), besides the formats that
-- test_parquet_write.lua covers.
-- Run from the repository root: tally tests/lua/test_files_read.lua

local tally = require "tally"
local exe = assert(arg[-1], "run this script with the tally executable")
local check = require "tests.lua.scan_check"
local check_error, same = check.check_error, check.same

local dir = check.tempdir()
local function path(name) return dir .. "/" .. name end

local want = tally.read_csv("tests/data/compressed/jica_training.csv")
for _, ext in ipairs{ "gz", "zst" } do
  local got = tally.read("tests/data/compressed/jica_training.csv." .. ext)
  same(got, want, ".csv." .. ext)
  -- upper case, and read_csv's options passed on
  local p = path("J.CSV." .. ext:upper())
  os.execute(string.format("cp 'tests/data/compressed/jica_training.csv.%s' '%s'", ext, p))
  same(tally.read(p, { types = { year = "string" } }),
       tally.read_csv("tests/data/compressed/jica_training.csv", { types = { year = "string" } }),
       ".CSV." .. ext:upper() .. " with options")
  check_error("write: " .. path("o.csv." .. ext) .. ": unknown file extension",
              want.write, want, path("o.csv." .. ext))
end

-- a TSV, compressed: read with sep = "\t"
do
  local tsv = path("x.tsv")
  local f = assert(io.open(tsv, "w"))
  f:write("a\tb\n1\tx y\n2\tz\n")
  f:close()
  assert(os.execute(string.format("gzip -k '%s'", tsv)))
  local t = tally.read(tsv .. ".gz")
  assert(#t == 2 and t.a:sum() == 3 and t.b[1] == "x y", ".tsv.gz")
  assert(#tally.read(tsv .. ".gz", { header = false }) == 3, ".tsv.gz with header = false")
end

-- .tally: t:save and tally.load
do
  local p = path("w.tally")
  want:write(p)
  same(tally.read(p), want, ".tally")
  same(tally.read(p, { map = false }), want, ".tally, copied")
  check_error("read: " .. p .. " (a tally file): load: unknown option 'sep'", tally.read, p,
              { sep = ";" })
end

-- `tally FILE` opens them as t
do
  local out = path("cli.out")
  os.execute(string.format("echo 'print(#t)' | '%s' '%s' >'%s' 2>&1", exe,
                           "tests/data/compressed/jica_training.csv.gz", out))
  local f = assert(io.open(out, "rb"))
  local o = f:read("a")
  f:close()
  assert(o:find("t = tests/data/compressed/jica_training.csv.gz: " .. #want .. " rows", 1, true), o)
end

os.execute("rm -rf '" .. dir .. "'")
print("test_files_read: ok")
