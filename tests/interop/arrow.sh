#!/bin/sh
# Arrow IPC between tally and Polars: Polars writes its files (every type,
# each codec, file and stream, several batches) and the figures it reads
# back; tally must read the same figures; tally writes them again with each
# codec and format, and Polars must read back the same values and types.
set -eu
: "${TALLY:?}" "${TALLY_SCRATCH:?}"
dir=$TALLY_SCRATCH
rm -rf "$dir"
mkdir -p "$dir"
node tests/data/arrow/make_polars.js "$dir"
"$TALLY" tests/interop/arrow_tally.lua "$dir"
node tests/interop/arrow_polars.js "$dir"
