#!/usr/bin/env bash
# Benchmark tally against DuckDB (1 and 2 threads), Polars, plain Lua 5.4 and LuaJIT on
# the synthetic trainings table, check that they all give the same answers, and print
# one table of medians, ranges, ratios and peak memory.
#
#   tests/bench/run.sh [--quick] [--rows N] [--runs R] [--reps N] [--queries "q1 q3"]
#                      [--tools "tally duckdb polars lua luajit"] [--threads N]
#
#   --quick     1 000 000 rows (default: 10 000 000)
#   --rows N    N rows
#   --runs R    whole-process runs of every command (default 3); the table shows medians
#   --reps N    repetitions of each query inside one in-memory run (default 5)
#   --queries   subset of q1 q2 q3 q4 q5 q5lua q6 q7 (default: all)
#   --tools     subset of tally duckdb polars lua luajit (default: all)
#   --threads N tally's and Polars' worker threads (default 2, as the DuckDB column
#               tally is judged by)
#
# Writes tests/bench/results/latest.{tsv,md}; per-run outputs and logs go to
# tests/bench/logs/, the generated CSV to tests/bench/data/ (reused when it has the
# right number of rows). Exits with status 1 when the tools' answers differ.
# See tests/bench/README.md for what each figure means.
#
# Environment (optional): SHARED (the anchors: default <repo>/../shared/bench), TALLY
# (default <repo>/build/tally), NODE, NPM, LUA (lua5.4), LUAJIT (luajit), PYTHON
# (python3), GNU_TIME (/usr/bin/time), ANCHOR_CACHE (npm cache for @duckdb/node-api and
# nodejs-polars, shared with run_anchors.sh), TIMEOUT (seconds per process, default 1800).
# Query and tool lists are validated words, split on purpose where they are expanded.
# shellcheck disable=SC2086
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
SHARED=${SHARED:-$repo/../shared/bench}
TALLY=${TALLY:-$repo/build/tally}
NODE=${NODE:-node} NPM=${NPM:-npm} LUA=${LUA:-lua5.4} LUAJIT=${LUAJIT:-luajit} PYTHON=${PYTHON:-python3}
GNU_TIME=${GNU_TIME:-/usr/bin/time} TIMEOUT=${TIMEOUT:-1800}
ANCHOR_CACHE=${ANCHOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/table-anchors}

rows=10000000 runs=3 reps=5 threads=2
queries="q1 q2 q3 q4 q5 q5lua q6 q7"
tools="tally duckdb polars lua luajit"
command_line=tests/bench/run.sh
for a in "$@"; do
  case $a in *[!A-Za-z0-9_.,/=+-]* | '') command_line="$command_line \"$a\"" ;; *) command_line="$command_line $a" ;; esac
done

usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
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
  case $t in tally | duckdb | polars | lua | luajit) ;;
    *) die "unknown tool '$t' (tally duckdb polars lua luajit)" ;;
  esac
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

can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
if ! "$GNU_TIME" -f '%e %M' -o /dev/null true 2>/dev/null; then
  if can_apt; then
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
if has luajit && ! command -v "$LUAJIT" >/dev/null 2>&1; then
  if [ "$LUAJIT" = luajit ] && can_apt; then
    warn "LuaJIT missing: apt-get install -y luajit"
    apt-get install -y luajit >&2 || true
  fi
  if ! command -v "$LUAJIT" >/dev/null 2>&1; then
    warn "$LUAJIT not found; LuaJIT anchors skipped"
    drop luajit "$LUAJIT not found"
  fi
fi
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON is needed (the data generator and the result checks)"

# Node packages go into ANCHOR_CACHE (outside the repository), installed by npm on the
# first run.
export NODE_PATH="$ANCHOR_CACHE/node_modules"
loads() { "$NODE" -e "require('$1')" >/dev/null 2>&1; }
npm_install() { # npm_install PACKAGE...
  mkdir -p "$ANCHOR_CACHE"
  timeout 600 "$NPM" install --silent --no-audit --no-fund --prefix "$ANCHOR_CACHE" "$@" >&2
}
has_node=yes
command -v "$NODE" >/dev/null 2>&1 || has_node=
if has duckdb; then
  if [ -z "$has_node" ]; then
    warn "node not found; DuckDB skipped"
    drop duckdb "node not found"
  elif ! loads @duckdb/node-api; then
    warn "installing @duckdb/node-api into $ANCHOR_CACHE"
    if ! npm_install @duckdb/node-api || ! loads @duckdb/node-api; then
      warn "npm could not install @duckdb/node-api (registry not reachable?); continuing without DuckDB"
      drop duckdb "npm could not install @duckdb/node-api"
    fi
  fi
fi
if has polars; then
  if [ -z "$has_node" ]; then
    warn "node not found; Polars skipped"
    drop polars "node not found"
  elif ! loads nodejs-polars; then
    # npm leaves out the native optional package when node is older than the one it asks
    # for, so it is installed by name, at the version of nodejs-polars
    native=nodejs-polars-$("$NODE" -p 'process.platform + "-" + process.arch')-gnu
    warn "installing nodejs-polars and $native into $ANCHOR_CACHE"
    npm_install nodejs-polars || true
    v=$("$NODE" -p "require('nodejs-polars/package.json').version" 2>/dev/null || true)
    if [ -n "$v" ] && ! loads nodejs-polars; then npm_install "$native@$v" || true; fi
    if ! loads nodejs-polars; then
      warn "npm could not install nodejs-polars with $native; continuing without Polars"
      drop polars "npm could not install nodejs-polars with $native"
    fi
  fi
fi
duck_threads="2 1"
# Polars: as many threads as tally; its results printed whole, as Markdown tables, so
# that check.py can read them
export POLARS_MAX_THREADS=$threads POLARS_FMT_MAX_ROWS=-1 POLARS_FMT_MAX_COLS=-1 \
  POLARS_FMT_STR_LEN=10000 POLARS_TABLE_WIDTH=65535 POLARS_FMT_TABLE_FORMATTING=ASCII_MARKDOWN \
  POLARS_FMT_TABLE_HIDE_COLUMN_DATA_TYPES=1
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
# LOG/TAG.runs, its user and system CPU seconds to LOG/TAG.cpu, the "@time" lines of its stderr to LOG/TAG.inproc and its other "@" lines
# (unsupported, fail) to LOG/TAG.notes; keeps the first run's stdout as LOG/TAG.out.
# Sets $status: ok, unsupported (exit 3), timeout or FAIL.
run_one() {
  local tag=$1 t0 t1 rc wall kb
  shift
  t0=$(date +%s%N)
  if "$GNU_TIME" -f '%e %M %U %S' -o "$log/$tag.time" timeout "$TIMEOUT" "$@" \
    > "$log/$tag.stdout" 2> "$log/$tag.stderr"; then rc=0; else rc=$?; fi
  t1=$(date +%s%N)
  case $t0$t1 in
    *N*) wall=$(tail -1 "$log/$tag.time" | awk '{ print $1 }') ;;
    *) wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }') ;;
  esac
  kb=$(tail -1 "$log/$tag.time" | awk '{ print $2 }')
  case $rc in 0) status=ok ;; 3) status=unsupported ;; 124) status=timeout ;; *) status=FAIL ;; esac
  printf '%s %s %s\n' "$wall" "${kb:-0}" "$status" >> "$log/$tag.runs"
  tail -1 "$log/$tag.time" | awk '{ printf "%.2f %.2f\n", $3, $4 }' >> "$log/$tag.cpu"   # user, sys
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
    has polars && proc_run polars "$a" "$NODE" "$anchors/polars.js" proc "$csv" "$a"
    has lua && proc_run lua "$a" "$LUA" "$anchors/lua_anchor.lua" stream "$a" "$csv"
    has luajit && proc_run luajit "$a" "$LUAJIT" "$anchors/lua_anchor.lua" stream "$a" "$csv"
  done
  has tally && mem_run tally "$TALLY" tests/bench/queries.lua mem "$csv" "$reps" $queries
  if has duckdb; then
    for th in $duck_threads; do
      mem_run "duckdb-t$th" "$NODE" "$anchors/duck.js" mem "$csv" "$th" "$reps" $anchor_queries
    done
  fi
  has polars && mem_run polars "$NODE" "$anchors/polars.js" mem "$csv" "$reps" $anchor_queries
  has lua && mem_run lua "$LUA" "$anchors/lua_anchor.lua" mem "$csv" "$reps" $anchor_queries
  has luajit && mem_run luajit "$LUAJIT" "$anchors/lua_anchor.lua" mem "$csv" "$reps" $anchor_queries
  r=$((r + 1))
done

# ---------------------------------------------------------------------------------------
# summary: LOG/raw.tsv holds tool, label, kind, value (median seconds or a status), peak MB,
# and the range of the seconds (lowest, highest)

med() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
lo_hi() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s\t%s\n", lo, hi }'; }
raw=$log/raw.tsv
: > "$raw"
all_tools="tally duckdb-t2 duckdb-t1 polars lua luajit"
measured() { case $1 in duckdb-*) has duckdb ;; *) has "$1" ;; esac; }
columns=
for tool in $all_tools; do measured "$tool" && columns="$columns $tool"; done
columns=${columns# }
for tool in $columns; do
  [ "$tool" = tally ] && qs=$queries || qs=$anchor_queries
  for q in $qs; do
    tag="$tool.proc.$q"
    [ -f "$log/$tag.runs" ] || continue
    st=$(awk '$3 != "ok" { s = $3 } END { print s }' "$log/$tag.runs")
    if [ -n "$st" ]; then
      printf '%s\t%s\tproc\t%s\t\t\t\n' "$tool" "$q" "$st" >> "$raw"
    else
      printf '%s\t%s\tproc\t%s\t%s\t%s\n' "$tool" "$q" "$(awk '{ print $1 }' "$log/$tag.runs" | med)" \
        "$(awk '{ printf "%.0f\n", $2 / 1024 }' "$log/$tag.runs" | med)" \
        "$(awk '{ print $1 }' "$log/$tag.runs" | lo_hi)" >> "$raw"
    fi
  done
  tag="$tool.mem"
  [ -f "$log/$tag.runs" ] || continue
  peak=$(awk '{ printf "%.0f\n", $2 / 1024 }' "$log/$tag.runs" | med)
  labels="load $qs"
  [ "$tool" = tally ] && labels="$labels save load_saved"
  for label in $labels; do
    v=$(awk -v l="$label" '$2 == l { print $3 }' "$log/$tag.inproc" 2> /dev/null | med)
    range=$(printf '\t')
    if [ -z "$v" ]; then
      v=$(awk -v l="$label" '$2 == l { sub(/^@/, "", $1); print $1; exit }' "$log/$tag.notes" 2> /dev/null)
      case $v in unsupported) ;; *) v=FAIL ;; esac
    else # over every repetition of every run: the min= and max= each tool prints
      range=$(awk -v l="$label" '$2 == l { lo = hi = $3
                for (i = 4; i <= NF; i++) {
                  if ($i ~ /^min=/) lo = substr($i, 5)
                  if ($i ~ /^max=/) hi = substr($i, 5)
                }
                print lo; print hi }' "$log/$tag.inproc" | lo_hi)
    fi
    [ "$label" = load ] && mb=$peak || mb=
    printf '%s\t%s\tinproc\t%s\t%s\t%s\n' "$tool" "$label" "$v" "$mb" "$range" >> "$raw"
  done
done

# ---------------------------------------------------------------------------------------
# result checks: every tool's answer to each query against the first tool's (tally's
# when it has one), numbers within a float tolerance (check.py says how)

checks=$log/checks.tsv
rm -f "$checks"
check_rc=0
"$PYTHON" "$here/check.py" "$log" "$queries" "$columns" || check_rc=$?
if [ ! -f "$checks" ] || { [ "$check_rc" != 0 ] && [ "$check_rc" != 3 ]; }; then
  warn "check.py failed (status $check_rc): the results were not compared"
  : > "$checks"
fi
mismatches=$(awk -F'\t' '$3 == "MISMATCH" { printf "%s%s (%s): %s", n++ ? "; " : "", $1, $2, $4 }' "$checks")
if [ -n "$mismatches" ]; then
  awk -F'\t' '$3 == "MISMATCH" { print $1, $2 }' "$checks" | while read -r q kind; do
    warn "MISMATCH in $q ($kind): the tools' answers differ; see $log/check.$kind.$q.*.diff"
  done
fi

# ---------------------------------------------------------------------------------------
# the table: per query and kind, every tool's median seconds and range, tally's seconds
# over the fastest peer's (named), over DuckDB's (2 threads) and Lua's, peak MB, check

table=$results/latest.tsv
awk -v queries="$queries" -v tools="$columns" -v FS='\t' -v OFS='\t' '
  function num(v) { return v ~ /^[0-9]*[.]?[0-9]+([eE][-+]?[0-9]+)?$/ }
  function fmt(v) { return num(v) ? sprintf("%.4g", v) : v }
  function key(tool, label, kind) {
    if (tool != "tally" && label == "q5lua") label = "q5"
    return tool SUBSEP label SUBSEP kind
  }
  function get(A, tool, label, kind,    k) { k = key(tool, label, kind); return (k in A && A[k] != "") ? A[k] : "-" }
  function ratio(a, b) { return (num(a) && num(b) && b > 0) ? sprintf("%.2f", a / b) : "-" }
  function name(tool) { gsub("-", "_", tool); return tool }
  function row(label, kind,    i, line, t, best, bv, v, lo, hi) {
    t = get(V, "tally", label, kind); best = "-"; bv = ""
    line = label OFS kind
    for (i = 1; i <= nt; i++) {
      v = get(V, T[i], label, kind); line = line OFS fmt(v)
      if (T[i] != "tally" && num(v) && (bv == "" || v + 0 < bv + 0)) { bv = v; best = T[i] }
    }
    line = line OFS ratio(t, bv) OFS best OFS ratio(t, get(V, "duckdb-t2", label, kind)) OFS ratio(t, get(V, "lua", label, kind))
    for (i = 1; i <= nt; i++) {
      lo = get(L, T[i], label, kind); hi = get(H, T[i], label, kind)
      line = line OFS (num(lo) && num(hi) ? fmt(lo) ".." fmt(hi) : "-")
    }
    for (i = 1; i <= nt; i++) line = line OFS get(M, T[i], label, kind)
    line = line OFS ratio(get(M, "tally", label, kind), get(M, "duckdb-t2", label, kind))
    print line OFS (((label SUBSEP kind) in C) ? C[label, kind] : "-")
  }
  FILENAME == ARGV[1] { k = $1 SUBSEP $2 SUBSEP $3; V[k] = $4; M[k] = $5; L[k] = $6; H[k] = $7; next }
  { C[$1, $2] = $3 }
  END {
    nt = split(tools, T, " ")
    h = "query" OFS "kind"
    for (i = 1; i <= nt; i++) h = h OFS name(T[i]) "_s"
    h = h OFS "tally/fastest" OFS "fastest_peer" OFS "tally/duckdb_t2" OFS "tally/lua"
    for (i = 1; i <= nt; i++) h = h OFS name(T[i]) "_range"
    for (i = 1; i <= nt; i++) h = h OFS name(T[i]) "_MB"
    print h OFS "tally_MB/duckdb_t2_MB" OFS "check"
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
node_version() { "$NODE" -p "require('$1/package.json').version" 2> /dev/null || echo '?'; }
has duckdb && versions="$versions, @duckdb/node-api $(node_version @duckdb/node-api)"
has polars && versions="$versions, nodejs-polars $(node_version nodejs-polars)"
{ has duckdb || has polars; } && versions="$versions, node $("$NODE" --version)"
has lua && versions="$versions, $("$LUA" -v 2>&1 | awk '{ print $1, $2 }')"
has luajit && versions="$versions, $("$LUAJIT" -v 2>&1 | awk '{ print $1, $2 }')"
versions=${versions#, }
size_mb=$(du -mL "$csv" | cut -f1)
threads_used="tally and Polars on $threads thread(s)"
if cat "$log"/tally.*.notes 2> /dev/null | grep -q '^@warn tally.threads is missing'; then
  threads_used="tally on its default threads (it has no tally.threads yet), Polars on $threads"
fi
when=$(date -u '+%Y-%m-%d %H:%M UTC')

# pick MD|TSV COLUMN...: the named columns of the table (names as in its header; a
# column "T_s" is shown as "median (range)" of tool T), as Markdown or tab-separated rows;
# rows whose picked cells are all "-" past the first two are left out
pick() {
  local how=$1
  shift
  awk -v how="$how" -v want="$*" -F'\t' '
    NR == 1 {
      for (i = 1; i <= NF; i++) H[$i] = i
      n = split(want, W, " ")
      for (i = 1; i <= n; i++) if (!(W[i] in H)) W[i] = ""
      line = ""; sep = ""
      for (i = 1; i <= n; i++) {
        if (W[i] == "") continue
        h = W[i]; sub(/_s$/, "", h)
        line = line (line == "" ? "" : "\t") h; sep = sep (i <= 2 || W[i] ~ /^(check|fastest_peer)$/ ? "---|" : "--:|")
      }
      out(line); if (how == "MD") print "|" sep; next
    }
    {
      line = ""; any = 0
      for (i = 1; i <= n; i++) {
        if (W[i] == "") continue
        v = $H[W[i]]
        r = W[i]; sub(/_s$/, "_range", r)
        if (W[i] ~ /_s$/ && (r in H) && $H[r] != "-" && how == "MD") v = v " (" $H[r] ")"
        if (i > 2 && v != "-") any = 1
        line = line (line == "" ? "" : "\t") v
      }
      if (any) out(line)
    }
    function out(l) { if (how == "MD") { gsub("\t", " | ", l); print "| " l " |" } else print l }
  ' "$table"
}
time_cols="query kind"
mem_cols="query kind"
for tool in $columns; do
  time_cols="$time_cols $(echo "$tool" | tr - _)_s"
  mem_cols="$mem_cols $(echo "$tool" | tr - _)_MB"
done
time_cols="$time_cols tally/fastest fastest_peer check"
mem_cols="$mem_cols tally_MB/duckdb_t2_MB"

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
  echo "Seconds are medians, with the lowest and highest in parentheses (proc: over the runs;"
  echo "inproc: over every repetition of every run). proc: one whole process (start, read the"
  echo "CSV, run the query); inproc: the query alone on a table already in memory (lua and"
  echo "luajit: CPU seconds). tally/fastest is tally's seconds over the fastest other tool's"
  echo "(fastest_peer); below 1.0 tally is faster. MB: median peak resident memory of the"
  echo "process (for inproc, on the load row: the in-memory process, which ran every query)."
  echo "check: every tool's result against the first one's (tally's), numbers within a float"
  echo "tolerance. For q5lua the other tools' columns repeat their q5. See tests/bench/README.md."
  echo
  echo "## Timings"
  echo
  pick MD $time_cols
  echo
  echo "## Peak memory (MB)"
  echo
  pick MD $mem_cols
  echo
  echo "## Targets"
  echo
  sed 's/^\([^ ]*\) *\(.*\)$/- **\1** \2/' "$targets"
  if [ -n "$mismatches" ]; then
    echo
    echo "**MISMATCH**: the tools' answers differ: $mismatches."
  fi
} > "$results/latest.md"

echo
pick TSV $time_cols | column -t -s "$(printf '\t')" 2> /dev/null || pick TSV $time_cols
echo
pick TSV $mem_cols | column -t -s "$(printf '\t')" 2> /dev/null || pick TSV $mem_cols
echo
cat "$targets"
echo
echo "machine: $(nproc) CPUs ($cpu), $memory; $rows rows; $versions"
echo "written: ${table#"$repo"/}, ${results#"$repo"/}/latest.md; logs in ${log#"$repo"/}/"
if has tally; then
  u=$(awk -F'\t' '$1 == "tally" && $4 == "unsupported" && !seen[$2]++ { printf " %s", $2 }' "$raw")
  [ -z "$u" ] || echo "unsupported in tally:$u (reasons: ${log#"$repo"/}/tally.*.notes)"
  u=$(awk -F'\t' '$1 == "tally" && ($4 == "FAIL" || $4 == "timeout") && !seen[$2]++ { printf " %s", $2 }' "$raw")
  [ -z "$u" ] || echo "failed in tally:$u (see ${log#"$repo"/}/tally.*.err)"
fi
u=$(awk -F'\t' '$1 != "tally" && ($4 == "FAIL" || $4 == "timeout") { printf " %s(%s %s)", $1, $2, $3 }' "$raw")
[ -z "$u" ] || echo "failed in the other tools:$u (see ${log#"$repo"/}/*.err)"
if [ -n "$mismatches" ]; then
  echo
  echo "MISMATCH: the tools' answers differ: $mismatches"
  echo "(the differing rows are in ${log#"$repo"/}/check.*.diff)"
  exit 1
fi
