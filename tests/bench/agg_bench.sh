#!/bin/sh
# The aggregation micro-benchmark (agg_bench.c): q2, q3, q4 or q6 of the
# harness over a table built in memory, REPS times, in CPU and wall seconds
# a run.
#   tests/bench/agg_bench.sh QUERY REPS [THREADS] [ROWS]
# For instruction counts: perf stat -e instructions on REPS n and REPS 0
# (the build of the table alone), the difference over n.
# BUILD: the build directory that holds libtally.a (default: build); CC.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD:-$repo/build}
cc=${CC:-cc}
out=$build/tests/bench/agg_bench
mkdir -p "$(dirname "$out")"
# -O2, as the library's Release and RelWithDebInfo builds
"$cc" -O2 -g -std=gnu11 -I "$repo/core/include" -I "$repo/core" "$here/agg_bench.c" "$build/libtally.a" \
  $(pkg-config --libs libxxhash jansson libpcre2-8 libutf8proc libzstd zlib liblz4 libbrotlidec \
    libbrotlienc) -lsnappy -lm -lpthread -o "$out"
exec "$out" "$@"
