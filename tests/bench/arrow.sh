#!/usr/bin/env bash
# Reading Arrow IPC files: tally.read_arrow against Polars' readIPC on the
# benchmark table (gen_trainings.py), written by tally uncompressed, lz4 and
# zstd. Each reader runs in one process, best of RUNS reads after a warm-up;
# the files are in the page cache. Writes results/arrow.md.
#
#   tests/bench/arrow.sh [ROWS]      default 3000000
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rows=${1:-3000000}
runs=${RUNS:-5}
shared=${SHARED:-$PWD/../shared/bench}
tally=${TALLY:-build/tally}
work=${WORK:-/tmp/tally-bench-arrow}
export NODE_PATH=${NODE_PATH:-/root/.cache/table-anchors/node_modules}
mkdir -p "$work" tests/bench/results
csv=$work/t$rows.csv
[ -f "$csv" ] || python3 "$shared/gen_trainings.py" "$rows" "$csv"

"$tally" - "$csv" "$work" "$runs" >"$work/tally.txt" <<'LUA'
local csv, work, runs = arg[1], arg[2], tonumber(arg[3])
local t = tally.read_csv(csv)
for _, c in ipairs{ "none", "lz4", "zstd" } do
  local w0 = tally.clock()
  t:write_arrow(work .. "/t_" .. c .. ".ipc", { compression = c })
  local wt = tally.clock() - w0
  local f = io.open(work .. "/t_" .. c .. ".ipc", "rb")
  local size = f:seek("end")
  f:close()
  local best = math.huge
  for r = 0, runs do
    collectgarbage()
    local t0 = tally.clock()
    local u = tally.read_arrow(work .. "/t_" .. c .. ".ipc")
    local dt = tally.clock() - t0
    if r > 0 and dt < best then best = dt end
    assert(#u == #t)
    u = nil
  end
  print(string.format("%s\t%d\t%.4f\t%.4f", c, size, best, wt))
end
LUA

node - "$work" "$runs" >"$work/polars.txt" <<'JS'
const pl = require("nodejs-polars");
const [work, runs] = [process.argv[2], Number(process.argv[3])];
for (const c of ["none", "lz4", "zstd"]) {
  let best = Infinity;
  for (let r = 0; r <= runs; r++) {
    const t0 = process.hrtime.bigint();
    const df = pl.readIPC(`${work}/t_${c}.ipc`);   // a path ending in .ipc: read by Polars itself
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r > 0 && dt < best) best = dt;
    if (df.height <= 0) throw new Error("empty");
  }
  console.log(`${c}\t${best.toFixed(4)}`);
}
JS

{
  echo "# Reading Arrow IPC files: tally and Polars"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores, $rows rows of gen_trainings.py (9 columns), files"
  echo "written by tally's write_arrow; best of $runs reads in one process after a warm-up."
  echo "Load average when done: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine"
  echo "slows both readers alike; compare the columns, not the absolute times)."
  echo
  echo "| compression | file size | tally.read_arrow | Polars readIPC | tally write_arrow |"
  echo "|---|---:|---:|---:|---:|"
  paste "$work/tally.txt" "$work/polars.txt" | while IFS=$'\t' read -r c size tr tw c2 pr; do
    printf '| %s | %.1f MB | %.3f s | %.3f s | %.3f s |\n' "$c" "$(echo "$size / 1000000" | bc -l)" "$tr" "$pr" "$tw"
  done
} > tests/bench/results/arrow.md
cat tests/bench/results/arrow.md
