#!/bin/sh
# Dates in expressions against DuckDB, in process, on the benchmark table with
# d = make_date(year, month, 1) and s = strftime(d, '%b %d %Y') added in both:
# to_date(s, '%b %d %Y'), date_trunc('month', d), and a group by it.
#   tests/bench/expr_dates.sh [CSV] [THREADS] [REPS]
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
echo "tally:";  "$TALLY" "$here/expr_dates.lua" "$csv" "$threads" "$reps"
echo "duckdb:"; node "$here/expr_dates_duck.js" "$csv" "$threads" "$reps"
