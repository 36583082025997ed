#!/bin/sh
# Lazy scans over 30 M rows (about 2.5 GB of CSV) against DuckDB, each a
# whole process under /usr/bin/time -v: its wall time, user+sys CPU seconds
# and peak RSS, the median of each over the runs.
#   tests/bench/scan30m.sh [--runs R] [--threads N] [--data DIR] [--limit 1GB]
#                          [--cases "program write ids"] [--out FILE]
# The file is the 10 M-row benchmark table of ../shared/bench/gen_trainings.py
# with its data rows appended twice more (one header; every id three times),
# made on first use in DIR (default tests/bench/data). The cases:
#   program  scan(f):group_by("program"):agg(count, sum, mean)
#   write    scan(f):filter(...):select(...):write_csv(...)
#   ids      group_by("id"): 10 M groups of 3 rows, under TALLY_MEMORY_LIMIT
#            against DuckDB's SET memory_limit (both LIMIT)
#   sort     scan(f):sort("-cost"):write_csv(...) under the same limits (an
#            external sort: not among the default cases)
# The answers are checked to agree: per program the count and sum; per id
# the number of groups, their counts (all 3), the sum of the sums and of
# id * count; for the writer the rows and the sum of the ids written; for the
# sort the rows and the costs, line by line (ties may come in either order).
# Writes tests/bench/results/scan30m.md or FILE (command, date, load averages).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
runs=3 threads=2 data=$here/data limit=1GB cases="program write ids"
out=$here/results/scan30m.md
cmdline="tests/bench/scan30m.sh $*"
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    --cases) cases=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "scan30m.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
TALLY=${TALLY:-$repo/build/tally}
SHARED=${SHARED:-$repo/../shared/bench}
NODE_PATH=${NODE_PATH:-${XDG_CACHE_HOME:-$HOME/.cache}/table-anchors/node_modules}
export NODE_PATH
mkdir -p "$data" "$here/results"
csv=$data/t30m.csv
if [ ! -f "$csv" ]; then
  [ -f "$data/t10m.csv" ] || {
    python3 "$SHARED/gen_trainings.py" 10000000 "$data/t10m.part.csv"
    mv "$data/t10m.part.csv" "$data/t10m.csv"
  }
  { cat "$data/t10m.csv"; tail -n +2 "$data/t10m.csv"; tail -n +2 "$data/t10m.csv"; } \
    >"$data/t30m.part.csv"
  mv "$data/t30m.part.csv" "$csv"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the scripts ------------------------------------------------------------
cat >"$tmp/program.lua" <<LUA
tally.threads($threads)
local r = tally.scan("$csv"):group_by("program")
  :agg("n = count()", "s = sum(cost)", "m = mean(cost)"):collect()
for _, x in r:rows() do print(x.program, x.n, string.format("%.17g", x.s)) end
LUA
cat >"$tmp/program.js" <<JS
const duckdb = require("@duckdb/node-api");
(async () => {
  const db = await duckdb.DuckDBInstance.create(":memory:", { threads: "$threads" });
  const c = await db.connect();
  const r = await c.runAndReadAll("SELECT program, count(*) AS n, sum(cost), avg(cost) " +
    "FROM read_csv('$csv') GROUP BY program");
  for (const x of r.getRows()) console.log([x[0], String(x[1]), String(x[2])].join("\t"));
})();
JS
filter="cost > 3000 and year >= 2000"
cat >"$tmp/write.lua" <<LUA
tally.threads($threads)
tally.scan("$csv"):filter("$filter"):select("id", "program", "country", "cost")
  :write_csv("$tmp/out_tally.csv")
LUA
cat >"$tmp/write.js" <<JS
const duckdb = require("@duckdb/node-api");
(async () => {
  const db = await duckdb.DuckDBInstance.create(":memory:", { threads: "$threads" });
  const c = await db.connect();
  await c.run("COPY (SELECT id, program, country, cost FROM read_csv('$csv') " +
    "WHERE cost > 3000 AND year >= 2000) TO '$tmp/out_duck.csv' (HEADER)");
})();
JS
cat >"$tmp/ids.lua" <<LUA
tally.threads($threads)
local r = tally.scan("$csv"):group_by("id")
  :agg("n = count()", "s = sum(cost)", "m = mean(cost)"):collect()
local w = r:agg("g = count()", "n = sum(n)", "lo = min(n)", "hi = max(n)", "s = sum(s)",
                "idn = sum(id * n)", "m = sum(m)")[1]
print(table.concat({ w.g, w.n, w.lo, w.hi, string.format("%.17g", w.s), w.idn,
                     string.format("%.17g", w.m) }, "\t"))
LUA
cat >"$tmp/ids.js" <<JS
const duckdb = require("@duckdb/node-api");
(async () => {
  const db = await duckdb.DuckDBInstance.create(":memory:", { threads: "$threads" });
  const c = await db.connect();
  await c.run("SET memory_limit = '$limit'");
  const w = await c.runAndReadAll("SELECT count(*), sum(n), min(n), max(n), sum(s), " +
    "sum(id * n), sum(m) FROM (SELECT id, count(*) AS n, sum(cost) AS s, avg(cost) AS m " +
    "FROM read_csv('$csv') GROUP BY id)");
  console.log(w.getRows()[0].map(String).join("\t"));
})();
JS
cat >"$tmp/sort.lua" <<LUA
tally.threads($threads)
tally.scan("$csv"):sort("-cost"):write_csv("$tmp/sort_tally.csv")
LUA
cat >"$tmp/sort.js" <<JS
const duckdb = require("@duckdb/node-api");
(async () => {
  const db = await duckdb.DuckDBInstance.create(":memory:", { threads: "$threads" });
  const c = await db.connect();
  await c.run("SET memory_limit = '$limit'");
  await c.run("COPY (SELECT * FROM read_csv('$csv') ORDER BY cost DESC NULLS LAST) " +
    "TO '$tmp/sort_duck.csv' (HEADER)");
})();
JS

# --- running ----------------------------------------------------------------
# measure TAG CMD...: RUNS whole-process runs; TAG.tsv gets wall, cpu, rss_mb
# a line, TAG.out the last run's output. Fails when a run fails.
measure() {
  tag=$1; shift
  : >"$tmp/$tag.tsv"
  for i in $(seq "$runs"); do
    if ! /usr/bin/time -v "$@" >"$tmp/$tag.out" 2>"$tmp/$tag.time"; then
      echo "scan30m.sh: $tag failed:" >&2; tail -5 "$tmp/$tag.time" >&2; exit 1
    fi
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0;
                  for (k = 1; k <= n; k++) w = w * 60 + p[k] }
                /User time/ { u = $2 } /System time/ { s = $2 }
                /Maximum resident set size/ { m = $2 / 1024 }
                END { printf "%.2f\t%.2f\t%.1f\n", w, u + s, m }' "$tmp/$tag.time" >>"$tmp/$tag.tsv"
  done
}
# median TAG FIELD: the median of a column of TAG.tsv
median() {
  cut -f"$2" "$tmp/$1.tsv" | sort -n | awk '{ v[NR] = $1 } END {
    if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
rows=""
row() {   # row LABEL TAG
  rows="$rows$(printf '| %s | %s | %s | %s | %s |' "$1" "$(median "$2" 1)" "$(median "$2" 2)" \
    "$(median "$2" 3)" "$(cut -f3 "$tmp/$2.tsv" | sort -n | tail -1)")
"
}
checks=""
check() {   # check WHAT OK
  if [ "$2" = 0 ]; then checks="$checks- $1: agree
"; else checks="$checks- $1: DIFFER
"; echo "scan30m.sh: $1: the answers differ" >&2; fi
}
# same_rows A B: tab-separated key, count, sum; counts equal, sums within 1e-9
same_rows() {
  sort "$1" >"$1.s"; sort "$2" >"$2.s"
  join -t "$(printf '\t')" "$1.s" "$2.s" | awk -F'\t' -v want="$(wc -l <"$1.s")" '
    { d = $3 - $5; if (d < 0) d = -d; a = $3 < 0 ? -$3 : $3
      if ($2 != $4 || d > 1e-9 * a) bad++; n++ }
    END { exit !(n == want && n > 0 && !bad) }'
}

for c in $cases; do
  case $c in
    program)
      measure program_tally "$TALLY" "$tmp/program.lua"
      measure program_duck node "$tmp/program.js"
      row 'tally `scan():group_by("program"):agg(count, sum, mean)`' program_tally
      row 'DuckDB `SELECT program, count(*), sum(cost), avg(cost) ... GROUP BY program`' program_duck
      same_rows "$tmp/program_tally.out" "$tmp/program_duck.out" && ok=0 || ok=1
      check "group_by(\"program\"): $(wc -l <"$tmp/program_tally.out") groups, count and sum per group" $ok ;;
    write)
      measure write_tally "$TALLY" "$tmp/write.lua"
      measure write_duck node "$tmp/write.js"
      row "tally \`scan():filter(\"$filter\"):select(4 columns):write_csv()\`" write_tally
      row 'DuckDB `COPY (SELECT 4 columns ... WHERE ...) TO csv`' write_duck
      a=$(awk -F, 'NR > 1 { n++; s += $1 } END { printf "%d %.0f", n, s }' "$tmp/out_tally.csv")
      b=$(awk -F, 'NR > 1 { n++; s += $1 } END { printf "%d %.0f", n, s }' "$tmp/out_duck.csv")
      [ "$a" = "$b" ] && ok=0 || ok=1
      check "write_csv: rows and sum of ids written ($a)" $ok
      rm -f "$tmp/out_tally.csv" "$tmp/out_duck.csv" ;;
    ids)
      measure ids_tally env TALLY_MEMORY_LIMIT="$limit" "$TALLY" "$tmp/ids.lua"
      measure ids_duck node "$tmp/ids.js"
      row "tally \`scan():group_by(\"id\")\`, TALLY_MEMORY_LIMIT=$limit" ids_tally
      row "DuckDB \`GROUP BY id\`, memory_limit='$limit'" ids_duck
      ok=$(paste "$tmp/ids_tally.out" "$tmp/ids_duck.out" | awk -F'\t' '{
        d = $5 - $12; if (d < 0) d = -d; e = $7 - $14; if (e < 0) e = -e
        print ($1 == $8 && $2 == $9 && $3 == 3 && $4 == 3 && $3 == $10 && $4 == $11 &&
               $6 == $13 && d <= 1e-9 * $5 && e <= 1e-9 * $7) ? 0 : 1 }')
      check "group_by(\"id\"): groups, rows, min/max count (3), sum of sums and of means, sum of id*count ($(tr '\t' ' ' <"$tmp/ids_tally.out"))" "$ok" ;;
    sort)
      measure sort_tally env TALLY_MEMORY_LIMIT="$limit" "$TALLY" "$tmp/sort.lua"
      measure sort_duck node "$tmp/sort.js"
      row "tally \`scan():sort(\"-cost\"):write_csv()\`, TALLY_MEMORY_LIMIT=$limit" sort_tally
      row "DuckDB \`COPY (... ORDER BY cost DESC) TO csv\`, memory_limit='$limit'" sort_duck
      col=$(head -1 "$tmp/sort_tally.csv" | tr ',' '\n' | grep -n '^cost$' | cut -d: -f1)
      n=$(wc -l <"$tmp/sort_tally.csv")
      cut -d, -f"$col" "$tmp/sort_tally.csv" >"$tmp/sort_a"
      cut -d, -f"$col" "$tmp/sort_duck.csv" >"$tmp/sort_b"
      paste -d, "$tmp/sort_a" "$tmp/sort_b" | awk -F, -v want="$n" '
        NR > 1 && $1 + 0 != $2 + 0 { bad++ } END { exit !(NR == want && NR > 1 && !bad) }' \
        && ok=0 || ok=1
      check "sort: $((n - 1)) rows, the costs line by line" $ok
      rm -f "$tmp/sort_tally.csv" "$tmp/sort_duck.csv" "$tmp/sort_a" "$tmp/sort_b" ;;
    *) echo "scan30m.sh: unknown case '$c'" >&2; exit 2 ;;
  esac
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "# Lazy scans over 30 M rows, against DuckDB"
  echo
  echo "- command: \`$cmdline\` ($runs whole-process runs each, $threads threads)"
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); tally $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "- machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "- load average (1, 5, 15 min): $load0 at the start, $load1 at the end"
  echo "- input: $(basename "$csv"), $(wc -c <"$csv" | awk '{ printf "%.2f GB", $1 / 1e9 }'), 30 M rows, every id three times"
  echo
  echo "Medians over the runs of /usr/bin/time -v: wall seconds, user+sys CPU seconds, peak RSS;"
  echo "and the largest peak RSS of any run. Under a loaded machine wall time says little:"
  echo "compare CPU seconds and peak RSS."
  echo
  echo "| query | wall s | CPU s | peak RSS MB | max peak RSS MB |"
  echo "|---|---:|---:|---:|---:|"
  printf '%s' "$rows"
  echo
  echo "Answers:"
  echo
  printf '%s' "$checks"
} >"$out"
cat "$out"
case $checks in *DIFFER*) exit 1 ;; esac
