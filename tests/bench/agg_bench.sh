#!/bin/sh
# The aggregation micro-benchmark (agg_bench.c): q2, q3, q4 or q6 of the
# harness over a table built in memory, REPS times, in CPU and wall seconds
# a run.
#   tests/bench/agg_bench.sh QUERY REPS [THREADS] [ROWS]
# For instruction counts: perf stat -e instructions on REPS n and REPS 0
# (the build of the table alone), the difference over n.
# BUILD: the build directory that holds libtally.a (default: build); CC
# (tests/bench/cbench.sh builds it).
exec "$(dirname "$0")/cbench.sh" agg_bench "$@"
