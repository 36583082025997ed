#!/bin/sh
# Writing the benchmark table as zstd Parquet: tally's t:write_parquet against
# DuckDB's COPY ... TO (FORMAT parquet), each timed in process after loading
# the CSV (median of REPS; wall-clock and CPU seconds), with the file's size.
#   tests/bench/parquet_write.sh [CSV] [THREADS] [REPS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
csv=${1:-$here/data/trainings-10000000.csv}
threads=${2:-2}
reps=${3:-3}
out=${TMPDIR:-/tmp}/tally-bench-pqw.$$
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT
TALLY=${TALLY:-$repo/build/tally}
NODE_PATH=${NODE_PATH:-${XDG_CACHE_HOME:-$HOME/.cache}/table-anchors/node_modules}
export NODE_PATH
echo "tally:";  "$TALLY" "$here/parquet_write.lua" "$csv" "$threads" "$reps" "$out/tally.parquet"
echo "duckdb:"; node "$here/parquet_write_duck.js" "$csv" "$threads" "$reps" "$out/duck.parquet"
