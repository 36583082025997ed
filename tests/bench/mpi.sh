#!/bin/sh
# Q3 and Q5 of the benchmark over MPI ranks: scripts/examples/distributed.lua
# on 1, 2 and 4 ranks, each rank under GNU time for its peak memory.
#   tests/bench/mpi.sh [CSV] [RANKS...]
# Needs a build with -DTALLY_MPI=ON (TALLY, default build-mpi/tally). Each
# rank runs with one worker thread (TALLY_THREADS=1), so that N ranks use N
# cores. Prints, per rank count: the script's timings (rank 0), the bytes
# rank 0 exchanged, and every rank's peak resident memory.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
csv=${1:-$here/data/trainings-10000000.csv}
[ $# -gt 0 ] && shift
ranks=${*:-1 2 4}
TALLY=${TALLY:-$repo/build-mpi/tally}
GNU_TIME=${GNU_TIME:-/usr/bin/time}
flags="--oversubscribe"
[ "$(id -u)" = 0 ] && flags="$flags --allow-run-as-root"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for n in $ranks; do
  echo "== $n rank(s)"
  # shellcheck disable=SC2086
  TALLY_THREADS=1 mpirun -n "$n" $flags \
    sh -c 'exec "$1" -f "peak %M KB" -o "$2.$OMPI_COMM_WORLD_RANK" "$3" "$4" "$5"' sh \
      "$GNU_TIME" "$out/time" "$TALLY" "$repo/scripts/examples/distributed.lua" "$csv" \
      >"$out/stdout" 2>"$out/stderr" || {
      cat "$out/stderr"; exit 1; }
  grep -E '^(read|q3|q5|q5lua) ' "$out/stderr"
  for f in "$out"/time.*; do
    printf 'rank %s: %s\n' "${f##*.}" "$(tail -n 1 "$f")"
  done
  rm -f "$out"/time.*
done
