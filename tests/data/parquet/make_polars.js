// Writes tests/data/parquet/polars_*.parquet with Polars (another writer than
// DuckDB: data pages v2, RLE booleans) and polars.csv, the same frame as CSV;
// polars_types.parquet holds more types (ints of every width and sign,
// float32, dates, datetimes in ms/us/ns with and without a zone, a
// categorical), checked by the figures of figures.lua.
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
for (const codec of ['uncompressed', 'snappy', 'zstd', 'gzip', 'lz4', 'brotli']) {
  df.writeParquet(path.join(__dirname, `polars_${codec}.parquet`), { compression: codec });
}
df.writeCSV(path.join(__dirname, 'polars.csv'));

const ms = (i) => Date.UTC(2001, 2, 3) + i * 86399123;
const types = pl.DataFrame([
  pl.Series('i8', idx.map((i) => (i % 7 === 0 ? null : (i % 200) - 100)), pl.Int8),
  pl.Series('i16', idx.map((i) => i * 311 - 30000), pl.Int16),
  pl.Series('i32', idx.map((i) => i * 7919 - 900000), pl.Int32),
  pl.Series('u8', idx.map((i) => (i * 3) % 256), pl.UInt8),
  pl.Series('u16', idx.map((i) => (i * 331) % 65536), pl.UInt16),
  pl.Series('u32', idx.map((i) => i * 21000000), pl.UInt32),
  pl.Series('u64', idx.map((i) => i * 1000000007), pl.Int64).cast(pl.UInt64),
  pl.Series('f32', idx.map((i) => (i % 5 === 0 ? null : i * 0.5 - 20)), pl.Float32),
  pl.Series('dt', idx.map((i) => new Date(ms(i))), pl.Date),
  pl.Series('ts', idx.map((i) => new Date(ms(i))), pl.Datetime('ms')),
  pl.Series('cat', idx.map((i) => (i % 3 === 0 ? null : ['x', 'yy', 'zzz'][i % 3])), pl.Utf8)
    .cast(pl.Categorical),
]).withColumns(
  pl.col('ts').cast(pl.Datetime('us')).alias('ts_us'),
  pl.col('ts').cast(pl.Datetime('ns')).alias('ts_ns'),
  pl.col('ts').cast(pl.Datetime('ms', 'UTC')).alias('ts_utc'),
);
for (const codec of ['zstd', 'lz4']) {
  types.writeParquet(path.join(__dirname, `polars_types_${codec}.parquet`),
                     { compression: codec });
}
