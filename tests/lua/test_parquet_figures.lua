-- Every column of the Parquet files DuckDB and Polars wrote (tests/data/parquet)
-- read by tally.read_parquet with the count, sum, min, max and distinct count
-- that DuckDB reads from them (figures.lua, written by figures.js), and those
-- Polars wrote with what Polars reads (figures_polars.lua); the interop test
-- parquet_read.sh compares with DuckDB and Polars themselves.
local dir = "tests/data/parquet/"
local check = dofile(dir .. "figures_check.lua")
local expected = dofile(dir .. "figures.lua")
local nfiles = 0
for _ in pairs(expected) do nfiles = nfiles + 1 end
assert(nfiles >= 19, "figures of " .. nfiles .. " files")
local n = check(expected, dir)
assert(n >= 200, n .. " columns checked")
local np = check(dofile(dir .. "figures_polars.lua"), dir)
assert(np >= 50, np .. " columns of Polars' files checked")
-- a figure that differs is found
local first = expected["types_zstd.parquet"][2]
first.sum = first.sum + 1
assert(not pcall(check, { ["types_zstd.parquet"] = expected["types_zstd.parquet"] }, dir))
print("parquet figures: " .. n .. " columns of " .. nfiles .. " files")
