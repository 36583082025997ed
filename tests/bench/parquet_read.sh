#!/bin/sh
# Reading a Parquet file of the benchmark table: DuckDB (CREATE TABLE AS
# SELECT * FROM read_parquet), Polars (readParquet) and tally
# (tally.read_parquet), each a whole process timed by /usr/bin/time -v
# (wall time, peak RSS), with the read alone timed inside it. The file is
# the CSV written by DuckDB with COPY (FORMAT parquet, COMPRESSION zstd);
# the table's own size is that of tally.save's file of it.
#   tests/bench/parquet_read.sh [CSV] [THREADS] [SCRATCH]
#   python3 /work/shared/bench/gen_trainings.py 3000000 /tmp/t3m.csv
#   tests/bench/parquet_read.sh /tmp/t3m.csv 2
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
csv=${1:-$here/data/trainings-10000000.csv}
threads=${2:-2}
scratch=${3:-${TMPDIR:-/tmp}/tally-bench-parquet}
TALLY=${TALLY:-$repo/build/tally}
NODE_PATH=${NODE_PATH:-${XDG_CACHE_HOME:-$HOME/.cache}/table-anchors/node_modules}
export NODE_PATH
mkdir -p "$scratch"
pq=$scratch/$(basename "$csv" .csv).parquet
if [ ! -f "$pq" ] || [ "$csv" -nt "$pq" ]; then
  node "$here/parquet_read.js" write "$csv" "$pq" "$threads"
fi
echo "file: $pq ($(wc -c < "$pq") bytes), threads $threads"

cat > "$scratch/read.lua" <<'LUA'
local path, threads, save = arg[1], tonumber(arg[2]), arg[3]
tally.threads(threads)
local t0 = tally.clock()
local t = tally.read_parquet(path)
print(string.format("@read %.4f rows=%d", tally.clock() - t0, #t))
if save then t:save(save) end
LUA

run() {   # name, command...: the figures of one whole process
  name=$1; shift
  /usr/bin/time -v "$@" > "$scratch/$name.out" 2> "$scratch/$name.time"
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$scratch/$name.time")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$scratch/$name.time")
  user=$(sed -n 's/.*User time (seconds): //p' "$scratch/$name.time")
  sys=$(sed -n 's/.*System time (seconds): //p' "$scratch/$name.time")
  printf '%-7s process %8s (cpu %s user + %s sys)  peak RSS %6d MB  %s\n' "$name" "$wall" \
    "$user" "$sys" $((rss / 1024)) "$(grep '^@read' "$scratch/$name.out")"
}
"$TALLY" "$scratch/read.lua" "$pq" "$threads" "$scratch/table.tally" > /dev/null
echo "table: $(( $(wc -c < "$scratch/table.tally") / 1048576 )) MB as tally.save writes it"
run duckdb node "$here/parquet_read.js" duckdb "$pq" "$threads"
run polars node "$here/parquet_read.js" polars "$pq" "$threads"
run tally "$TALLY" "$scratch/read.lua" "$pq" "$threads"
