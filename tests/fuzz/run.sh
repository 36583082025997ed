#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds (default 60) under ASan and
# UBSan. Builds them first with clang in build-fuzz/ (FUZZ_BUILD overrides
# the directory). Each target starts from its seed corpus in
# tests/fuzz/corpus/<target>/ (new inputs go to build-fuzz/corpus/, not into
# the tree); a crash is written to tests/fuzz/regressions/<target>/, where
# the normal test suite replays it. Exit status 1 when a target failed.
#
#   tests/fuzz/run.sh 60            all targets, a minute each
#   tests/fuzz/run.sh 300 csv expr  some targets
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD
seconds=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(csv csvgz document expr load lua hostile thrift parquet arrow flatbuf
           parquet_write arrow_write)
fi
build=${FUZZ_BUILD:-$root/build-fuzz}

cmake -B "$build" -S "$root" -DCMAKE_C_COMPILER=clang -DTALLY_FUZZ=ON \
  -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 1
fuzzers=()
for t in "${targets[@]}"; do fuzzers+=("fuzz_$t"); done
cmake --build "$build" -j"$(nproc)" --target "${fuzzers[@]}" >/dev/null || exit 1

status=0
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t
  regressions=$root/tests/fuzz/regressions/$t
  mkdir -p "$corpus" "$regressions"
  printf '==== fuzz_%s: %s s\n' "$t" "$seconds"
  # 8 s for one input is a hang; 2 GiB is a leak or a blow-up
  if ! ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
       UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
       "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=8 \
         -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
         -artifact_prefix="$regressions/" "$corpus" "$root/tests/fuzz/corpus/$t" \
         2>"$build/fuzz_$t.log"; then
    status=1
    echo "fuzz_$t: FAILED; the input is in $regressions/, the log in $build/fuzz_$t.log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$build/fuzz_$t.log" | head -5
  fi
  grep -E '^stat::(number_of_executed_units|new_units_added)|^Done' "$build/fuzz_$t.log" | tr '\n' ' '
  echo
done
exit $status
