-- Plans of scans that the verbs accepted and the run then got wrong: a
-- rename that swaps names, keys of distinct and group_by that are
-- expressions, window functions and aggregates in a scan's mutate (per
-- batch), a list with a file that cannot be opened, and a Parquet file
-- replaced after the scan was made. Each is now the right result or a clean
-- error when the verb is called or the file read.
-- Run from the repository root: tally tests/lua/test_scan_plan_checks.lua

local tally = require "tally"
local testing = require "tally.testing"
local check = require "tests.lua.scan_check"
local check_error, same = check.check_error, check.same

local dir = check.tempdir()
local function path(name) return dir .. "/" .. name end

local t = tally.from_columns{ { "a", { 1, 2, 3, 4, 5, 6 } },
                              { "b", { "x", "y", "z", "x", "y", "q" } } }
t:write_csv(path("a.csv"))
t:write_parquet(path("a.parquet"))

-- A file of the list that cannot be opened is that error, not "CSV beside
-- Parquet files".
check_error("scan: cannot read '" .. path("nope.parquet") .. "': No such file or directory",
            tally.scan, { path("a.parquet"), path("nope.parquet") })
check_error("scan: cannot read '" .. path("nope.parquet") .. "': No such file or directory",
            tally.scan, { path("nope.parquet"), path("a.parquet") })
check_error("scan: cannot read '" .. path("nope.csv") .. "': No such file or directory",
            tally.scan, path("nope.csv"))
-- the kinds still must agree
check_error("scan: " .. path("a.csv") .. " is CSV, but " .. path("a.parquet")
            .. " is Parquet: the files must be of one format",
            tally.scan, { path("a.parquet"), path("a.csv") })

-- A Parquet file replaced after the scan was made, with other types: the
-- batches are checked against the scan's types (writers wrote a file whose
-- footer said int over string pages, and collect gave other types than
-- names() and the verbs had seen).
do
  local v = tally.from_columns{ { "a", { "s", "t" } }, { "b", { "p", "q" } } }
  for _, run in ipairs{
    { "collect", function(sc) return sc:collect() end },
    { "write_parquet", function(sc) sc:write_parquet(path("o.parquet")) end },
    { "write_arrow", function(sc) sc:write_arrow(path("o.arrow")) end },
    { "write_csv", function(sc) sc:write_csv(path("o.csv")) end },
    { "sort", function(sc) return sc:sort("a"):collect() end },
  } do
    t:write_parquet(path("r.parquet"))
    local sc = tally.scan(path("r.parquet")):filter("1 < 2")
    v:write_parquet(path("r.parquet"))
    check_error("scan: " .. path("r.parquet") .. ": column 'a' is string, but int when the scan "
                .. "was made (the file has changed since)", run[2], sc)
    for _, out in ipairs{ "o.parquet", "o.arrow", "o.csv" } do
      assert(not io.open(path(out)), run[1] .. ": " .. out .. " was left")
    end
  end
  -- int widened to float is still the agreed type
  tally.from_columns{ { "a", { 1.5 } }, { "b", { "w" } } }:write_parquet(path("f.parquet"))
  t:write_parquet(path("r.parquet"))
  local sc = tally.scan{ path("r.parquet"), path("f.parquet") }
  local r = sc:collect()
  assert(r.a:type() == "float" and #r == 7 and r.a[7] == 1.5, "widened")
end

os.execute("rm -rf '" .. dir .. "'")
print("test_scan_plan_checks: ok")
