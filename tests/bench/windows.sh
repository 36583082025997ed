#!/bin/sh
# Window functions against DuckDB, in process, on the benchmark table:
# rolling_mean(cost, 30) per program ordered by id (DuckDB: avg(cost) OVER
# (PARTITION BY program ORDER BY id ROWS BETWEEN 29 PRECEDING AND CURRENT ROW))
# and each row's share of its program's cost, cost / sum(cost) (DuckDB:
# OVER (PARTITION BY program)).
#   tests/bench/windows.sh [CSV] [THREADS] [REPS]
# (CSV: python3 gen_trainings.py 3000000 /tmp/t3m.csv)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
csv=${1:-$here/data/trainings-10000000.csv}
threads=${2:-2}
reps=${3:-3}
TALLY=${TALLY:-$repo/build/tally}
NODE_PATH=${NODE_PATH:-${XDG_CACHE_HOME:-$HOME/.cache}/table-anchors/node_modules}
export NODE_PATH
echo "tally:";  "$TALLY" "$here/windows.lua" "$csv" "$threads" "$reps"
echo "duckdb:"; node "$here/windows_duck.js" "$csv" "$threads" "$reps"
