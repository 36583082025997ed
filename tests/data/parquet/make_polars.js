// Writes tests/data/parquet/polars_*.parquet with Polars (another writer than
// DuckDB: data pages v2, RLE booleans) and polars.csv, the same frame as CSV.
//   NODE_PATH=<dir with nodejs-polars> node tests/data/parquet/make_polars.js
const pl = require('nodejs-polars');
const path = require('path');

const n = 200;
const idx = [...Array(n).keys()];
const df = pl.DataFrame([
  pl.Series('i', idx.map((i) => (i % 6 === 0 ? null : i * 1001 - 50000)), pl.Int64),
  pl.Series('f', idx.map((i) => (i % 8 === 0 ? null : i * 0.375 - 7)), pl.Float64),
  pl.Series('s', idx.map((i) => (i % 5 === 0 ? null : 'w' + ((i * 7) % 13))), pl.Utf8),
  pl.Series('b', idx.map((i) => (i % 9 === 0 ? null : i % 4 === 1)), pl.Bool),
]);
for (const codec of ['uncompressed', 'snappy', 'zstd', 'gzip']) {
  df.writeParquet(path.join(__dirname, `polars_${codec}.parquet`), { compression: codec });
}
df.writeCSV(path.join(__dirname, 'polars.csv'));
