#!/bin/sh
# The expression micro-benchmark: t:mutate("y = participants * cost") in ns
# per row beside a plain C loop over the same arrays, and
# t:filter("year >= 2010 and region == 'Asia'") in seconds, on 1 and 2
# threads (medians of RUNS runs).
#   tests/bench/expr_bench.sh [TABLE.tally] [RUNS]
# Without a table (or with "") the program builds 10 M rows in memory.
# BUILD: the build directory that holds libtally.a (default: build); CC.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD:-$repo/build}
cc=${CC:-cc}
out=$build/tests/bench/expr_bench
mkdir -p "$(dirname "$out")"
# -O2, as the library's Release and RelWithDebInfo builds
"$cc" -O2 -g -std=gnu11 -I "$repo/core/include" -I "$repo/core" "$here/expr_bench.c" "$build/libtally.a" \
  $(pkg-config --libs libxxhash jansson) -lm -lpthread -o "$out"
exec "$out" "$@"
