#!/bin/sh
# read_parquet against DuckDB and Polars: DuckDB reads every Parquet file of
# tests/data/parquet that DuckDB or Polars wrote, and Polars the files Polars
# wrote (figures.js, figures_polars.js: each column's count, sum, min, max and
# distinct count), and tally must read the same (figures_check.lua: floats
# within 1e-9 relative, decimals as floats, nanosecond timestamps at
# microseconds). Env: TALLY, NODE_PATH, TALLY_SCRATCH.
set -eu
mkdir -p "$TALLY_SCRATCH"
node tests/data/parquet/figures.js "$TALLY_SCRATCH/figures.lua"
node tests/data/parquet/figures_polars.js "$TALLY_SCRATCH/figures_polars.lua"
cat > "$TALLY_SCRATCH/check.lua" <<LUA
local check = dofile("tests/data/parquet/figures_check.lua")
local n = check(dofile("$TALLY_SCRATCH/figures.lua"), "tests/data/parquet/")
assert(n >= 200, n .. " columns checked")
print("parquet_read: " .. n .. " columns read as DuckDB reads them")
local np = check(dofile("$TALLY_SCRATCH/figures_polars.lua"), "tests/data/parquet/")
assert(np >= 50, np .. " columns checked")
print("parquet_read: " .. np .. " columns read as Polars reads them")
LUA
"$TALLY" "$TALLY_SCRATCH/check.lua"
