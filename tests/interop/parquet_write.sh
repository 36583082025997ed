#!/bin/sh
# tally's Parquet files read back by DuckDB and Polars (through node) with the
# same types and values: parquet_write.lua writes a table of every type with
# nulls in every codec, over several row groups, with a dictionary column and
# an empty table, and each as CSV beside; parquet_write.js checks each file's
# types (DuckDB's DESCRIBE, Polars' schema), its values against the CSV, its
# row groups, statistics and encodings. Env: TALLY, NODE_PATH, TALLY_SCRATCH.
set -eu
mkdir -p "$TALLY_SCRATCH"
"$TALLY" tests/interop/parquet_write.lua "$TALLY_SCRATCH"
node tests/interop/parquet_write.js "$TALLY_SCRATCH"
