#!/usr/bin/env bash
# Benchmark tally against DuckDB (1 and 2 threads) and plain Lua 5.4 on the synthetic
# trainings table, and print one table of medians, ratios and peak memory.
#
#   tests/bench/run.sh [--quick] [--rows N] [--runs R] [--reps N] [--queries "q1 q3"]
#                      [--tools "tally duckdb lua"]
#
#   --quick     1 000 000 rows (default: 10 000 000)
#   --rows N    N rows
#   --runs R    whole-process runs of every command (default 3); the table shows medians
#   --reps N    repetitions of each query inside one in-memory run (default 5)
#   --queries   subset of q1 q2 q3 q4 q5 q5lua q6 q7 (default: all)
#   --tools     subset of tally duckdb lua (default: all)
#   --threads N tally's worker threads (default 2, as the DuckDB column it is judged by)
#
# Writes tests/bench/results/latest.{tsv,md}; per-run outputs and logs go to
# tests/bench/logs/, the generated CSV to tests/bench/data/ (reused when it has the
# right number of rows). See tests/bench/README.md for what each figure means.
#
# Environment (optional): SHARED (the anchors: default <repo>/../shared/bench), TALLY
# (default <repo>/build/tally), NODE, NPM, LUA (lua5.4), PYTHON (python3), GNU_TIME
# (/usr/bin/time), ANCHOR_CACHE (npm cache for @duckdb/node-api, shared with
# run_anchors.sh), TIMEOUT (seconds per process, default 1800).
# Query and tool lists are validated words, split on purpose where they are expanded.
# shellcheck disable=SC2086
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
SHARED=${SHARED:-$repo/../shared/bench}
TALLY=${TALLY:-$repo/build/tally}
NODE=${NODE:-node} NPM=${NPM:-npm} LUA=${LUA:-lua5.4} PYTHON=${PYTHON:-python3}
GNU_TIME=${GNU_TIME:-/usr/bin/time} TIMEOUT=${TIMEOUT:-1800}
ANCHOR_CACHE=${ANCHOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/table-anchors}

rows=10000000 runs=3 reps=5 threads=2
queries="q1 q2 q3 q4 q5 q5lua q6 q7"
tools="tally duckdb lua"
command_line=tests/bench/run.sh
for a in "$@"; do
  case $a in *[!A-Za-z0-9_.,/=+-]* | '') command_line="$command_line \"$a\"" ;; *) command_line="$command_line $a" ;; esac
done

usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
die() { echo "run.sh: $*" >&2; exit 2; }
warn() { echo "run.sh: $*" >&2; }
is_count() { case $1 in '' | *[!0-9]* | 0*) return 1 ;; esac; return 0; }

while [ $# -gt 0 ]; do
  case $1 in
    --quick) rows=1000000 ;;
    --rows) [ $# -ge 2 ] || usage; rows=$2; shift ;;
    --runs) [ $# -ge 2 ] || usage; runs=$2; shift ;;
    --reps) [ $# -ge 2 ] || usage; reps=$2; shift ;;
    --queries) [ $# -ge 2 ] || usage; queries=$2; shift ;;
    --tools) [ $# -ge 2 ] || usage; tools=$2; shift ;;
    --threads) [ $# -ge 2 ] || usage; threads=$2; shift ;;
    -h | --help) usage 0 ;;
    *) usage ;;
  esac
  shift
done
is_count "$rows" || die "--rows wants a positive integer, not '$rows'"
is_count "$runs" || die "--runs wants a positive integer, not '$runs'"
is_count "$reps" || die "--reps wants a positive integer, not '$reps'"
is_count "$threads" || die "--threads wants a positive integer, not '$threads'"
for q in $queries; do
  case $q in q1 | q2 | q3 | q4 | q5 | q5lua | q6 | q7) ;; *) die "unknown query '$q'" ;; esac
done
for t in $tools; do
  case $t in tally | duckdb | lua) ;; *) die "unknown tool '$t' (tally duckdb lua)" ;; esac
done
has() { case " $tools " in *" $1 "*) return 0 ;; esac; return 1; }
skipped=
drop() { tools=$(echo " $tools " | sed "s/ $1 / /"); skipped="$skipped${skipped:+; }$1: $2"; }

# the anchors compute q5 for q5lua (the geometric mean is built in there)
anchor_of() { if [ "$1" = q5lua ]; then echo q5; else echo "$1"; fi; }
anchor_queries=
for q in $queries; do
  a=$(anchor_of "$q")
  case " $anchor_queries " in *" $a "*) ;; *) anchor_queries="$anchor_queries $a" ;; esac
done
anchor_queries=${anchor_queries# }

# ---------------------------------------------------------------------------------------
# tools

[ -f "$SHARED/gen_trainings.py" ] || die "no $SHARED/gen_trainings.py (set SHARED=<dir of gen_trainings.py>)"
anchors=$SHARED/anchors

if ! "$GNU_TIME" -f '%e %M' -o /dev/null true 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    warn "GNU time missing: apt-get install -y time"
    apt-get install -y time >&2 || die "could not install GNU time"
  else
    die "GNU time is needed at $GNU_TIME for peak memory (apt-get install time)"
  fi
fi
command -v timeout >/dev/null 2>&1 || die "timeout (coreutils) is needed"

if has tally && [ ! -x "$TALLY" ]; then
  warn "no tally binary at $TALLY (build it first: cmake -B build && cmake --build build); tally skipped"
  drop tally "no binary at $TALLY"
fi
if has lua && ! command -v "$LUA" >/dev/null 2>&1; then
  warn "$LUA not found; Lua anchors skipped"
  drop lua "$LUA not found"
fi
export NODE_PATH="$ANCHOR_CACHE/node_modules"
duck_loads() { "$NODE" -e "require('@duckdb/node-api')" >/dev/null 2>&1; }
if has duckdb; then
  if ! command -v "$NODE" >/dev/null 2>&1; then
    warn "node not found; DuckDB skipped"
    drop duckdb "node not found"
  elif ! duck_loads; then
    warn "installing @duckdb/node-api into $ANCHOR_CACHE"
    mkdir -p "$ANCHOR_CACHE"
    if ! timeout 600 "$NPM" install --silent --no-audit --no-fund --prefix "$ANCHOR_CACHE" @duckdb/node-api >&2 ||
      ! duck_loads; then
      warn "npm could not install @duckdb/node-api (registry not reachable?); continuing without DuckDB"
      drop duckdb "npm could not install @duckdb/node-api"
    fi
  fi
fi
duck_threads="2 1"
set -- $tools
tools=$*

# ---------------------------------------------------------------------------------------
# data

data=$here/data log=$here/logs results=$here/results
mkdir -p "$data" "$results"
rm -rf "$log"
mkdir -p "$log"
csv=$data/trainings-$rows.csv
if [ -f "$csv" ] && [ "$(wc -l < "$csv")" -eq $((rows + 1)) ]; then
  warn "using $csv"
else
  warn "generating $rows rows into $csv"
  "$PYTHON" "$SHARED/gen_trainings.py" "$rows" "$csv.part"
  mv "$csv.part" "$csv"
fi
export TALLY_BENCH_SAVE=$data/t.tally TALLY_BENCH_THREADS=$threads

# ---------------------------------------------------------------------------------------
# measuring

# run_one TAG CMD...: one run of CMD under GNU time. Appends "wall_s peak_kB status" to
# LOG/TAG.runs, the "@time" lines of its stderr to LOG/TAG.inproc and its other "@" lines
# (unsupported, fail) to LOG/TAG.notes; keeps the first run's stdout as LOG/TAG.out.
# Sets $status: ok, unsupported (exit 3), timeout or FAIL.
run_one() {
  local tag=$1 t0 t1 rc wall kb
  shift
  t0=$(date +%s%N)
  if "$GNU_TIME" -f '%e %M' -o "$log/$tag.time" timeout "$TIMEOUT" "$@" \
    > "$log/$tag.stdout" 2> "$log/$tag.stderr"; then rc=0; else rc=$?; fi
  t1=$(date +%s%N)
  case $t0$t1 in
    *N*) wall=$(tail -1 "$log/$tag.time" | awk '{ print $1 }') ;;
    *) wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }') ;;
  esac
  kb=$(tail -1 "$log/$tag.time" | awk '{ print $2 }')
  case $rc in 0) status=ok ;; 3) status=unsupported ;; 124) status=timeout ;; *) status=FAIL ;; esac
  printf '%s %s %s\n' "$wall" "${kb:-0}" "$status" >> "$log/$tag.runs"
  { echo "--- exit $rc"; cat "$log/$tag.stderr"; } >> "$log/$tag.err"
  grep '^@time ' "$log/$tag.stderr" >> "$log/$tag.inproc" || true
  grep '^@' "$log/$tag.stderr" | grep -v '^@time ' > "$log/$tag.notes" || true
  [ -f "$log/$tag.out" ] || mv "$log/$tag.stdout" "$log/$tag.out"
  rm -f "$log/$tag.stdout"
}

# given_up TAG: whether an earlier run of TAG already failed or was unsupported
given_up() { [ -f "$log/$1.runs" ] && grep -qv ' ok$' "$log/$1.runs"; }

proc_run() { # proc_run TOOL QUERY CMD...
  local tool=$1 q=$2 tag="$1.proc.$2"
  shift 2
  given_up "$tag" && return 0
  run_one "$tag" "$@"
  printf '  %-10s %-6s proc  %s s %s\n' "$tool" "$q" "$(tail -1 "$log/$tag.runs" | cut -d' ' -f1)" \
    "$([ "$status" = ok ] || echo "$status: $(last_words "$tag")")" >&2
}

last_words() { # the reason a run of TAG did not succeed
  local why
  why=$(grep -v '^@warn ' "$log/$1.notes" | tail -1 | cut -d' ' -f3-)
  if [ -n "$why" ]; then echo "$why"; else tail -1 "$log/$1.stderr"; fi
}

mem_run() { # mem_run TOOL CMD...
  local tool=$1 tag="$1.mem"
  shift
  if [ -f "$log/$tag.runs" ] && grep -q ' unsupported$' "$log/$tag.runs"; then return 0; fi
  run_one "$tag" "$@"
  printf '  %-10s mem         %s s %s\n' "$tool" "$(tail -1 "$log/$tag.runs" | cut -d' ' -f1)" \
    "$([ "$status" = ok ] || echo "$status")" >&2
}

cd "$repo"
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2> /dev/null || echo unknown)
warn "tools: ${tools:-none}; $runs run(s), $reps rep(s) in memory; tally on $threads thread(s); queries: $queries"
r=1
while [ "$r" -le "$runs" ]; do
  warn "run $r of $runs"
  done_anchor=
  for q in $queries; do
    has tally && proc_run tally "$q" "$TALLY" tests/bench/queries.lua proc "$q" "$csv"
    a=$(anchor_of "$q")
    case " $done_anchor " in *" $a "*) continue ;; esac
    done_anchor="$done_anchor $a"
    if has duckdb; then
      for th in $duck_threads; do
        proc_run "duckdb-t$th" "$a" "$NODE" "$anchors/duck.js" proc "$csv" "$th" "$a"
      done
    fi
    has lua && proc_run lua "$a" "$LUA" "$anchors/lua_anchor.lua" stream "$a" "$csv"
  done
  has tally && mem_run tally "$TALLY" tests/bench/queries.lua mem "$csv" "$reps" $queries
  if has duckdb; then
    for th in $duck_threads; do
      mem_run "duckdb-t$th" "$NODE" "$anchors/duck.js" mem "$csv" "$th" "$reps" $anchor_queries
    done
  fi
  has lua && mem_run lua "$LUA" "$anchors/lua_anchor.lua" mem "$csv" "$reps" $anchor_queries
  r=$((r + 1))
done

# ---------------------------------------------------------------------------------------
# summary: LOG/raw.tsv holds tool, label, kind, value (median seconds or a status), peak MB

med() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
raw=$log/raw.tsv
: > "$raw"
all_tools="tally duckdb-t2 duckdb-t1 lua"
for tool in $all_tools; do
  case $tool in duckdb-*) has duckdb || continue ;; *) has "$tool" || continue ;; esac
  [ "$tool" = tally ] && qs=$queries || qs=$anchor_queries
  for q in $qs; do
    tag="$tool.proc.$q"
    [ -f "$log/$tag.runs" ] || continue
    st=$(awk '$3 != "ok" { s = $3 } END { print s }' "$log/$tag.runs")
    if [ -n "$st" ]; then
      printf '%s\t%s\tproc\t%s\t\n' "$tool" "$q" "$st" >> "$raw"
    else
      printf '%s\t%s\tproc\t%s\t%s\n' "$tool" "$q" "$(awk '{ print $1 }' "$log/$tag.runs" | med)" \
        "$(awk '{ printf "%.0f\n", $2 / 1024 }' "$log/$tag.runs" | med)" >> "$raw"
    fi
  done
  tag="$tool.mem"
  [ -f "$log/$tag.runs" ] || continue
  peak=$(awk '{ printf "%.0f\n", $2 / 1024 }' "$log/$tag.runs" | med)
  labels="load $qs"
  [ "$tool" = tally ] && labels="$labels save load_saved"
  for label in $labels; do
    v=$(awk -v l="$label" '$2 == l { print $3 }' "$log/$tag.inproc" 2> /dev/null | med)
    if [ -z "$v" ]; then
      v=$(awk -v l="$label" '$2 == l { sub(/^@/, "", $1); print $1; exit }' "$log/$tag.notes" 2> /dev/null)
      case $v in unsupported) ;; *) v=FAIL ;; esac
    fi
    [ "$label" = load ] && mb=$peak || mb=
    printf '%s\t%s\tinproc\t%s\t%s\n' "$tool" "$label" "$v" "$mb" >> "$raw"
  done
done

# ---------------------------------------------------------------------------------------
# result checks: tally's output against DuckDB's (2 threads), else against Lua's, with
# numbers normalised to 6 significant digits

checks=$log/checks.tsv
: > "$checks"
normalise() {
  awk 'BEGIN { FS = OFS = "\t" }
       { for (i = 1; i <= NF; i++)
           if ($i ~ /^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$/) $i = sprintf("%.6g", $i + 0)
         print }'
}
json_rows() { # one DuckDB JSON result per line -> tab-separated rows, null as empty
  "$NODE" -e '
    const lines = require("fs").readFileSync(0, "utf8").split("\n").filter((l) => l.trim() !== "");
    for (const l of lines)
      for (const row of JSON.parse(l))
        console.log(row.map((v) => (v === null ? "" : String(v))).join("\t"));'
}
# reference KIND QUERY: the anchor's result for QUERY as normalised rows on stdout
reference() {
  local kind=$1 a i
  a=$(anchor_of "$2")
  if [ "$kind" = proc ]; then
    if has duckdb && [ -s "$log/duckdb-t2.proc.$a.out" ] && ! given_up "duckdb-t2.proc.$a"; then
      json_rows < "$log/duckdb-t2.proc.$a.out" | normalise && return 0
    fi
    if has lua && [ "$a" != q7 ] && [ -s "$log/lua.proc.$a.out" ] && ! given_up "lua.proc.$a"; then
      normalise < "$log/lua.proc.$a.out" && return 0
    fi
  elif has duckdb && [ -s "$log/duckdb-t2.mem.out" ]; then
    i=$(echo "$anchor_queries" | tr ' ' '\n' | grep -nx "$a" | cut -d: -f1)
    if [ "$(grep -c . "$log/duckdb-t2.mem.out")" -ge "$i" ]; then
      sed -n "${i}p" "$log/duckdb-t2.mem.out" | json_rows | normalise && return 0
    fi
  fi
  return 1
}
if has tally; then
  [ -f "$log/tally.mem.out" ] &&
    awk -v dir="$log" '/^== / { f = dir "/tally.mem." $2 ".res"; printf "" > f; next } f { print > f }' "$log/tally.mem.out"
  for q in $queries; do
    for kind in proc inproc; do
      if [ "$kind" = proc ]; then mine=$log/tally.proc.$q.out; else mine=$log/tally.mem.$q.res; fi
      v=$(awk -v q="$q" -v k="$kind" '$1 == "tally" && $2 == q && $3 == k { print $4 }' "$raw")
      case $v in '' | unsupported | FAIL | timeout) continue ;; esac
      [ -f "$mine" ] || continue
      reference "$kind" "$q" > "$log/check.$kind.$q.ref" 2> /dev/null || continue
      normalise < "$mine" > "$log/check.$kind.$q.tally"
      if diff "$log/check.$kind.$q.ref" "$log/check.$kind.$q.tally" > "$log/check.$kind.$q.diff"; then
        printf '%s\t%s\tok\n' "$q" "$kind" >> "$checks"
        rm -f "$log/check.$kind.$q.diff"
      else
        printf '%s\t%s\tMISMATCH\n' "$q" "$kind" >> "$checks"
        warn "$q ($kind): tally's result differs from the anchor's; see $log/check.$kind.$q.diff"
      fi
    done
  done
fi

# ---------------------------------------------------------------------------------------
# the table

table=$results/latest.tsv
awk -v queries="$queries" -v FS='\t' -v OFS='\t' '
  function num(v) { return v ~ /^[0-9]*[.]?[0-9]+([eE][-+]?[0-9]+)?$/ }
  function fmt(v) { return num(v) ? sprintf("%.4g", v) : v }
  function cell(tool, label, kind) {
    if (tool != "tally" && label == "q5lua") label = "q5"
    k = tool SUBSEP label SUBSEP kind
    return (k in V) ? V[k] : "-"
  }
  function ratio(a, b) { return (num(a) && num(b) && b > 0) ? sprintf("%.2f", a / b) : "-" }
  function row(label, kind,    t, d2, d1, l, c) {
    t = cell("tally", label, kind); d2 = cell("duckdb-t2", label, kind)
    d1 = cell("duckdb-t1", label, kind); l = cell("lua", label, kind)
    c = ((label SUBSEP kind) in C) ? C[label, kind] : "-"
    print label, kind, fmt(t), fmt(d2), fmt(d1), fmt(l), ratio(t, d2), ratio(t, l),
      mb("tally", label, kind), mb("duckdb-t2", label, kind), mb("duckdb-t1", label, kind),
      mb("lua", label, kind), c
  }
  function mb(tool, label, kind,   k) {
    if (tool != "tally" && label == "q5lua") label = "q5"
    k = tool SUBSEP label SUBSEP kind
    return (k in M && M[k] != "") ? M[k] : "-"
  }
  FILENAME == ARGV[1] { V[$1, $2, $3] = $4; M[$1, $2, $3] = $5; next }
  { C[$1, $2] = $3 }
  END {
    print "query", "kind", "tally_s", "duckdb_t2_s", "duckdb_t1_s", "lua_s", "tally/duckdb_t2",
      "tally/lua", "tally_MB", "duckdb_t2_MB", "duckdb_t1_MB", "lua_MB", "check"
    n = split(queries, Q, " ")
    for (i = 1; i <= n; i++) row(Q[i], "proc")
    row("load", "inproc")
    for (i = 1; i <= n; i++) row(Q[i], "inproc")
    row("save", "inproc"); row("load_saved", "inproc")
  }' "$raw" "$checks" > "$table"

# the targets (README.md), judged from the table: met, missed, or n/a when a figure is missing
targets=$log/targets.txt
awk -F'\t' -v rows="$rows" '
  function num(v) { return v ~ /^[0-9]*[.]?[0-9]+([eE][-+]?[0-9]+)?$/ }
  # MISSED when a measured figure is over the limit, met when every figure is measured
  # and within it, n/a otherwise
  function judge(name, ok, known, detail) {
    printf "%-6s %s%s\n", !ok ? "MISSED" : known ? "met" : "n/a", name, detail == "" ? "" : ": " detail
  }
  # all(LIST, KIND, COL, LIMIT): every query of LIST has column COL <= LIMIT
  function all(list, kind, col, limit,    n, i, q, k, ok, known, d) {
    n = split(list, L, " "); ok = 1; known = 0; d = ""
    for (i = 1; i <= n; i++) {
      q = L[i]; k = q SUBSEP kind
      if (!(k in R)) continue
      if (known == 0) known = 1
      if (!num(F[k, col])) { known = -1; d = d " " q "=" F[k, col]; continue }
      if (F[k, col] + 0 > limit) ok = 0
      d = d " " q "=" F[k, col]
    }
    return ok SUBSEP (known > 0) SUBSEP substr(d, 2)
  }
  function report(name, r,    p) { split(r, p, SUBSEP); judge(name, p[1], p[2], p[3]) }
  NR == 1 { for (i = 1; i <= NF; i++) H[$i] = i; next }
  { R[$1, $2] = 1; for (i = 1; i <= NF; i++) F[$1, $2, i] = $i }
  END {
    report("in-memory q2-q7: tally/duckdb_t2 <= 1.0", all("q2 q3 q4 q5 q6 q7", "inproc", H["tally/duckdb_t2"], 1.0))
    report("whole-process q1-q7: tally/duckdb_t2 <= 1.0", all("q1 q2 q3 q4 q5 q6 q7", "proc", H["tally/duckdb_t2"], 1.0))
    ok = 1; known = 0; d = ""
    n = split("q1 q2 q3 q4 q5 q6 q7", L, " ")
    for (i = 1; i <= n + 1; i++) {
      q = i <= n ? L[i] : "load"; kind = i <= n ? "proc" : "inproc"
      if (!((q, kind) in R)) continue
      a = F[q, kind, H["tally_MB"]]; b = F[q, kind, H["duckdb_t2_MB"]]
      if (!num(a) || !num(b)) { known = -1; continue }
      if (known == 0) known = 1
      if (a + 0 > b + 0) { ok = 0; d = d " " (i <= n ? q : "in-memory") "=" a "/" b }
    }
    judge("peak memory <= DuckDB (2 threads), every whole-process query and the in-memory run", ok, known > 0, d == "" ? "" : "over:" d)
    report("q3 whole-process >= 10x faster than Lua streaming (tally/lua <= 0.1)", all("q3", "proc", H["tally/lua"], 0.1))
    report("q3 in-memory >= 6x faster than Lua tables (tally/lua <= 0.167)", all("q3", "inproc", H["tally/lua"], 1 / 6))
    r = all("load_saved", "inproc", H["tally_s"], 0.1)
    report("tally.load of the saved table < 0.1 s" (rows == 10000000 ? "" : " (the target is for 10 M rows; this is " rows ")"), r)
  }' "$table" > "$targets"

# machine and versions
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2> /dev/null)
[ -n "$cpu" ] || cpu=$(uname -m)
memory=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2> /dev/null)
versions=
if has tally; then
  versions="tally $(timeout 10 "$TALLY" -e 'io.write(tostring(tally.version))' 2> /dev/null || echo '?')"
fi
if has duckdb; then
  versions="$versions, @duckdb/node-api $("$NODE" -p "require('@duckdb/node-api/package.json').version" 2> /dev/null || echo '?'), node $("$NODE" --version)"
fi
has lua && versions="$versions, $("$LUA" -v 2>&1 | awk '{ print $1, $2 }')"
versions=${versions#, }
size_mb=$(du -mL "$csv" | cut -f1)
threads_used="tally on $threads thread(s)"
if cat "$log"/tally.*.notes 2> /dev/null | grep -q '^@warn tally.threads is missing'; then
  threads_used="tally on its default threads (it has no tally.threads yet)"
fi
when=$(date -u '+%Y-%m-%d %H:%M UTC')

{
  echo "# tally benchmark"
  echo
  echo "- date: $when"
  echo "- command: \`$command_line\`"
  echo "- data: $rows rows, $size_mb MB CSV (gen_trainings.py, seed 219)"
  echo "- machine: $(nproc) CPUs ($cpu), $memory memory"
  echo "- versions: ${versions:-none}"
  [ -z "$skipped" ] || echo "- not measured: $skipped"
  [ "$TALLY" = "$repo/build/tally" ] || echo "- tally binary: $TALLY"
  echo "- load average before the run: $load_before"
  echo "- runs: $runs whole-process run(s) per command (median), $reps repetition(s) per in-memory query; $threads_used"
  echo
  echo "Seconds are medians. proc: one whole process (start, read the CSV, run the query);"
  echo "inproc: the query alone on a table already in memory (lua: CPU seconds). Ratios below"
  echo "1.0 mean tally is faster. MB: median peak resident memory of the process (for inproc,"
  echo "on the load row: the in-memory process, which ran every query). check: tally's result"
  if has duckdb; then
    echo "against DuckDB's (2 threads) to 6 significant digits. For q5lua the anchors' columns"
  else
    echo "against plain Lua's (whole-process, q1-q6) to 6 significant digits. For q5lua the anchors' columns"
  fi
  echo "repeat their q5. See tests/bench/README.md."
  echo
  echo "## Timings"
  echo
  awk -F'\t' 'NR == 1 { h = "|"; s = "|"; for (i = 1; i <= NF; i++) { h = h " " $i " |"; s = s (i <= 2 || i == NF ? "---|" : "--:|") }
                        print h; print s; next }
              { l = "|"; for (i = 1; i <= NF; i++) l = l " " $i " |"; print l }' "$table"
  echo
  echo "## Targets"
  echo
  sed 's/^\([^ ]*\) *\(.*\)$/- **\1** \2/' "$targets"
  if [ -s "$checks" ] && grep -q MISMATCH "$checks"; then
    echo
    echo "Results that differ from DuckDB's:$(awk -F'\t' '$3 == "MISMATCH" { printf " %s (%s)", $1, $2 }' "$checks")"
  fi
} > "$results/latest.md"

echo
column -t -s "$(printf '\t')" "$table" 2> /dev/null || cat "$table"
echo
cat "$targets"
echo
echo "machine: $(nproc) CPUs ($cpu), $memory; $rows rows; $versions"
echo "written: ${table#"$repo"/}, ${results#"$repo"/}/latest.md; logs in ${log#"$repo"/}/"
if grep -q MISMATCH "$checks"; then
  echo "MISMATCH: tally's result differs from the anchor's for:" \
    "$(awk -F'\t' '$3 == "MISMATCH" { printf "%s%s(%s)", NR > 1 ? " " : "", $1, $2 }' "$checks")"
fi
if has tally; then
  u=$(awk -F'\t' '$1 == "tally" && $4 == "unsupported" && !seen[$2]++ { printf " %s", $2 }' "$raw")
  [ -z "$u" ] || echo "unsupported in tally:$u (reasons: ${log#"$repo"/}/tally.*.notes)"
  u=$(awk -F'\t' '$1 == "tally" && ($4 == "FAIL" || $4 == "timeout") && !seen[$2]++ { printf " %s", $2 }' "$raw")
  [ -z "$u" ] || echo "failed in tally:$u (see ${log#"$repo"/}/tally.*.err)"
fi
