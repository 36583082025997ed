#!/bin/sh
# The expression micro-benchmark: t:mutate("y = participants * cost") in ns
# per row beside a plain C loop over the same arrays, and
# t:filter("year >= 2010 and region == 'Asia'") in seconds, on 1 and 2
# threads (medians of RUNS runs).
#   tests/bench/expr_bench.sh [TABLE.tally] [RUNS]
# Without a table (or with "") the program builds 10 M rows in memory.
# BUILD: the build directory that holds libtally.a (default: build); CC
# (tests/bench/cbench.sh builds it).
exec "$(dirname "$0")/cbench.sh" expr_bench "$@"
