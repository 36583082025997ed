#!/bin/sh
# Writes the compressed copies of the CSV files here (gzip and zstd command
# line tools), as tests/lua/test_csv_compressed.lua reads them. mixed.csv
# has quoted fields over lines and bad records; two.csv.gz is two gzip
# members one after the other; noext is zstd data under a name without
# an extension.
set -e
cd "$(dirname "$0")"
for f in jica_training jdr_dispatches mixed; do
  gzip -9 -n -c "$f.csv" > "$f.csv.gz"
  zstd -q -19 -f -c "$f.csv" > "$f.csv.zst"
done
head -c 300 mixed.csv > /tmp/tally_two_a.csv
tail -c +301 mixed.csv > /tmp/tally_two_b.csv
{ gzip -n -c /tmp/tally_two_a.csv; gzip -n -c /tmp/tally_two_b.csv; } > two.csv.gz
rm -f /tmp/tally_two_a.csv /tmp/tally_two_b.csv
cp mixed.csv.zst noext
