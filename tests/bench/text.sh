#!/bin/sh
# Text and regex over the benchmark table against DuckDB, in process:
# regexp_matches(note, '^[a-z]+ [0-9]+$') and lower(program), each made into a
# column of a new table (median of REPS).
#   tests/bench/text.sh [CSV] [THREADS] [REPS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
csv=${1:-$here/data/trainings-10000000.csv}
threads=${2:-2}
reps=${3:-3}
TALLY=${TALLY:-$repo/build/tally}
NODE_PATH=${NODE_PATH:-${XDG_CACHE_HOME:-$HOME/.cache}/table-anchors/node_modules}
export NODE_PATH
echo "tally:";  "$TALLY" "$here/text.lua" "$csv" "$threads" "$reps"
echo "duckdb:"; node "$here/text_duck.js" "$csv" "$threads" "$reps"
