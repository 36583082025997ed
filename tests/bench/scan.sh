#!/bin/sh
# A lazy scan against DuckDB's streaming reader and tally's in-memory read:
# group_by("program"):agg(count, sum(cost), mean(cost)) over one CSV file,
# each a whole process, its wall time and peak RSS from /usr/bin/time -v.
#   tests/bench/scan.sh [CSV] [THREADS] [RUNS]
# The CSV defaults to 3 M rows of the benchmark table, made on first use by
# ../shared/bench/gen_trainings.py. Then group_by("id") (a group per id)
# under a memory limit, TALLY_MEMORY_LIMIT against DuckDB's memory_limit,
# at LIMIT (default 1GB) and at a quarter of it, where tally spills.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
csv=${1:-/tmp/t3m.csv}
threads=${2:-2}
runs=${3:-3}
limit=${LIMIT:-1GB}
TALLY=${TALLY:-$repo/build/tally}
SHARED=${SHARED:-$repo/../shared/bench}
NODE_PATH=${NODE_PATH:-${XDG_CACHE_HOME:-$HOME/.cache}/table-anchors/node_modules}
export NODE_PATH
[ -f "$csv" ] || python3 "$SHARED/gen_trainings.py" 3000000 "$csv"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/scan.lua" <<LUA
tally.threads($threads)
local r = tally.scan("$csv"):group_by("program")
  :agg("n = count()", "s = sum(cost)", "m = mean(cost)"):collect()
print(#r, r.n:sum())
LUA
cat >"$tmp/read.lua" <<LUA
tally.threads($threads)
local r = tally.read_csv("$csv"):group_by("program")
  :agg("n = count()", "s = sum(cost)", "m = mean(cost)")
print(#r, r.n:sum())
LUA
cat >"$tmp/duck.js" <<JS
const duckdb = require("@duckdb/node-api");
(async () => {
  const db = await duckdb.DuckDBInstance.create(":memory:", { threads: "$threads" });
  const c = await db.connect();
  const r = await c.runAndReadAll("SELECT program, count(*) AS n, sum(cost), avg(cost) " +
    "FROM read_csv('$csv') GROUP BY program");
  const rows = r.getRows();
  let n = 0n; for (const x of rows) n += BigInt(x[1]);
  console.log(rows.length, n.toString());
})();
JS

cat >"$tmp/ids.lua" <<LUA
tally.threads($threads)
local r = tally.scan("$csv"):group_by("id")
  :agg("n = count()", "s = sum(cost)", "m = mean(cost)"):collect()
print(#r, r.n:sum())
LUA
# duck_ids LIMIT: the same query in DuckDB under memory_limit LIMIT
duck_ids() {
  cat >"$tmp/ids_$1.js" <<JS
const duckdb = require("@duckdb/node-api");
(async () => {
  const db = await duckdb.DuckDBInstance.create(":memory:", { threads: "$threads" });
  const c = await db.connect();
  await c.run("SET memory_limit = '$1'");
  const r = await c.runAndReadAll("SELECT id, count(*) AS n, sum(cost), avg(cost) " +
    "FROM read_csv('$csv') GROUP BY id");
  const rows = r.getRows();
  let n = 0n; for (const x of rows) n += BigInt(x[1]);
  console.log(rows.length, n.toString());
})();
JS
  echo "$tmp/ids_$1.js"
}

# run NAME CMD...: the best wall time and its peak RSS over the runs
run() {
  name=$1; shift
  best=""
  for i in $(seq "$runs"); do
    /usr/bin/time -v "$@" >"$tmp/out" 2>"$tmp/time"
    s=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); t = 0;
        for (k = 1; k <= n; k++) t = t * 60 + p[k]; print t }' "$tmp/time")
    kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/time")
    if [ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$s; bestkb=$kb
    fi
  done
  printf '%-28s %8.2f s %9.1f MB   %s\n' "$name" "$best" "$(echo "$bestkb / 1024" | bc -l)" \
    "$(tr '\n' ' ' <"$tmp/out")"
}

echo "$(basename "$csv"), $threads threads, best of $runs whole-process runs"
run "tally.scan" "$TALLY" "$tmp/scan.lua"
run "tally.read_csv + group_by" "$TALLY" "$tmp/read.lua"
run "duckdb read_csv" node "$tmp/duck.js"
quarter=$(awk -v l="$limit" 'BEGIN { n = l + 0; u = substr(l, length(n "") + 1);
  if (u == "GB") { n *= 1000; u = "MB" }
  printf "%d%s", n / 4, u }')
for l in "$limit" "$quarter"; do
  run "tally.scan group_by(id) $l" env TALLY_MEMORY_LIMIT="$l" "$TALLY" "$tmp/ids.lua"
  run "duckdb group_by(id) $l" node "$(duck_ids "$l")"
done
