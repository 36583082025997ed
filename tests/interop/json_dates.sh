#!/bin/sh
# Dates in read_json against DuckDB's read_json: DuckDB reads the JSON files
# of tests/data/json with dates (ISO dates, ISO timestamps with Z, and
# 2001/01/01 06:55, for which DuckDB is given timestampformat since its JSON
# reader detects only ISO) and writes each column's type and every value as
# text; tally must read the same types and values without being told.
set -eu
: "${TALLY:?}" "${TALLY_SCRATCH:?}"
dir=$TALLY_SCRATCH
rm -rf "$dir"
mkdir -p "$dir"
node tests/interop/json_dates_duck.js "$dir"
"$TALLY" tests/interop/json_dates.lua "$dir"
