-- Options that do not apply to the input are errors naming the option and
-- the format: the CSV options of tally.scan given for Parquet files or a
-- table, and tally.read's options that the reader of the file's format does
-- not take. The CSV options at their defaults, and `progress`, apply to
-- every source.
-- Run from the repository root: tally tests/lua/test_scan_options.lua

local tally = require "tally"

local check = require "tests.lua.scan_check"
local check_error, same = check.check_error, check.same

local base = os.tmpname()
os.remove(base)
local pq, csv = base .. ".parquet", base .. ".csv"
local t = tally.from_columns{ { "a", { 1, 2, 3 } }, { "b", { "x", "y", "z" } } }
t:write_parquet(pq)
t:write_csv(csv)

local csv_options = {
  { "sep", ";" }, { "header", false }, { "types", { a = "float" } }, { "null", { "NA" } },
  { "skip", 1 }, { "comment", "#" }, { "max_field_size", 10 }, { "sample_bytes", 100 },
}
for _, o in ipairs(csv_options) do
  local opts = { [o[1]] = o[2] }
  check_error("scan: option '" .. o[1] .. "' is for CSV files: it does not apply to Parquet files ("
              .. pq .. ")", tally.scan, pq, opts)
  check_error("scan: option '" .. o[1] .. "' is for CSV files: it does not apply to a table",
              tally.scan, t, opts)
  check_error("read: " .. pq .. " (a parquet file): read_parquet: unknown option '" .. o[1] .. "'",
              tally.read, pq, opts)
  -- the same options read the CSV file (a header skipped, or the types forced)
  assert(tally.scan(csv, opts))
end
-- a list of Parquet files names the first
check_error("does not apply to Parquet files (" .. pq .. ")", tally.scan, { pq, pq }, { sep = ";" })

-- what applies everywhere: defaults and progress
same(tally.scan(pq, { header = true, progress = false }):collect(), t, "parquet, defaults")
same(tally.scan(t, { progress = false }):collect(), t, "table, progress")
same(tally.read(pq, { columns = { "b" } }), t:select("b"), "read parquet, columns")
same(tally.read(csv, { types = { a = "int", b = "string" } }), t, "read csv, types")

-- unknown options stay errors with a suggestion, on every path
check_error("scan: unknown option 'sepp'", tally.scan, pq, { sepp = ";" })
check_error("read: " .. csv .. " (a csv file): read_csv: unknown option 'colums' (did you mean "
            .. "'columns'?)", tally.read, csv, { colums = { "a" } })
-- other errors of the reader pass unchanged
check_error("read_parquet: cannot open '" .. csv .. ".parquet'", tally.read, csv .. ".parquet")

os.remove(pq)
os.remove(csv)
print("test_scan_options: ok")
