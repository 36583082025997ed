-- Plans of scans that the verbs accepted and the run then got wrong: a
-- rename that swaps names, keys of distinct and group_by that are
-- expressions, window functions and aggregates in a scan's mutate (once
-- per batch), a list with a file that cannot be opened, and a Parquet file
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

-- rename{ a = "b", b = "a" } swaps, as the table's: the plan read only one
-- of the two columns (each name taken back in turn) and the result lost one.
local u = tally.from_columns{ { "a", { 1, 2, 3, 4, 5, 6 } }, { "b", { 10, 20, 30, 40, 50, 60 } } }
u:write_csv(path("u.csv"))
u:write_parquet(path("u.parquet"))
for _, src in ipairs{ path("u.csv"), path("u.parquet"), u } do
  local what = type(src) == "string" and src or "table"
  testing.with({ batch_rows = 2, morsel_bytes = 8 }, function()
    local swapped = u:rename{ a = "b", b = "a" }
    same(tally.scan(src):rename{ a = "b", b = "a" }:collect(), swapped, "swap, " .. what)
    same(tally.scan(src):rename{ a = "b", b = "a" }:filter("b > 3"):collect(),
         swapped:filter("b > 3"), "swap then filter, " .. what)
    same(tally.scan(src):rename{ a = "b", b = "a" }:select("a"):collect(), swapped:select("a"),
         "swap then select, " .. what)
    same(tally.scan(src):rename{ a = "c", b = "a" }:agg("s = sum(a)", "m = max(c)"):collect(),
         u:rename{ a = "c", b = "a" }:agg("s = sum(a)", "m = max(c)"), "rename chain, " .. what)
    same(tally.scan(src):rename{ a = "b", b = "a" }:rename{ a = "b", b = "a" }:collect(), u,
         "swap twice, " .. what)
  end)
end

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

-- distinct and group_by of a scan take column names: an expression (which
-- the table's verbs take) is an error when the verb is called, not at the
-- run (the plan read nothing for it, then the merge of the batches' rows
-- looked for its columns).
for _, src in ipairs{ path("a.csv"), path("a.parquet"), t } do
  check_error("distinct: a scan's keys are column names, and 'm = a % 3' is not one: mutate it "
              .. "first (s:mutate(\"k = ...\"):distinct(\"k\"))",
              function() return tally.scan(src):distinct("m = a % 3") end)
  check_error("'a % 2' is not one", function() return tally.scan(src):distinct("b", "a % 2") end)
  check_error("distinct: unknown column 'nope'", function() return tally.scan(src):distinct("nope") end)
  same(tally.scan(src):mutate("m = a % 3"):distinct("m"):collect(), t:distinct("m = a % 3"),
       "distinct after mutate")
end
check_error("group_by: unknown column 'y = a % 2'", function() return tally.scan(t):group_by("y = a % 2") end)

-- A scan's mutate that reads its whole input (a window function, an
-- aggregate over the input) once ran per batch (row_number restarting at
-- each); it then was an error when the verb was called. Now it gathers the
-- rows before it and equals the table's mutate, at batches of one row too.
for _, def in ipairs{ "r = row_number()", "p = lag(a)", "c = cumsum(a)", "share = a / sum(a)",
                      "m = rolling_mean(a, 2) + 1", "d = a - mean(a)" } do
  for _, src in ipairs{ path("a.csv"), path("a.parquet"), t } do
    local s = tally.scan(src):mutate("k = 1", def)
    assert(s:explain():find("materializes: the rows are gathered in memory", 1, true), s:explain())
    testing.with({ batch_rows = 1, morsel_bytes = 1 }, function()
      same(s:collect(), t:mutate("k = 1", def), def)
    end)
  end
end
-- the verb's own errors come first
check_error("unknown column 'nope'", function() return tally.scan(t):mutate("p = lag(nope)") end)
-- aggregates stay where they belong
same(tally.scan(t):agg("s = sum(a)", "m = mean(a)"):collect(), t:agg("s = sum(a)", "m = mean(a)"),
     "agg")


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
