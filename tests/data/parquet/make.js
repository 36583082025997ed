// Writes the Parquet files of tests/data/parquet and, beside each, the CSV
// of the same query, both by DuckDB: test_parquet.lua reads each file with
// read_parquet and its CSV with read_csv and compares them.
//   NODE_PATH=<dir with @duckdb/node-api> node tests/data/parquet/make.js
const { DuckDBInstance } = require('@duckdb/node-api');
const path = require('path');

const dir = __dirname;
const q = (name) => `'${path.join(dir, name).replace(/'/g, "''")}'`;

// every supported type, with nulls, 120 rows; floats and decimals are chosen
// so that their shortest text in the CSV is the value the file holds
const types = `
  SELECT
    CASE WHEN i % 7 = 0 THEN NULL ELSE i % 3 = 0 END AS b,
    (i % 100 - 50)::TINYINT AS i8,
    (i * 37 % 60000 - 30000)::SMALLINT AS i16,
    CASE WHEN i % 5 = 0 THEN NULL ELSE (i * 7919 - 1000000)::INTEGER END AS i32,
    (i * 1000000007 - 99999999999)::BIGINT AS i64,
    (i % 250)::UTINYINT AS u8,
    (i * 14000000)::UINTEGER AS u32,
    (i * 30000000000000000)::UBIGINT AS u64,
    CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 0.25 - 30)::FLOAT END AS f,
    (i * 1.5e10 + 0.125)::DOUBLE AS d,
    CASE WHEN i % 13 = 0 THEN NULL ELSE 'text ' || (i * i) END AS s,
    CASE WHEN i % 4 = 0 THEN NULL ELSE ['red', 'green', 'blue', 'été'][i % 3 + 1] END AS color,
    DATE '1969-12-25' + (i * 37)::INTEGER AS dt,
    CASE WHEN i % 9 = 0 THEN NULL
      ELSE TIMESTAMP '1999-12-31 23:59:59' + INTERVAL (i * 98765432) MICROSECOND END AS ts,
    (TIMESTAMP '2021-03-04 05:06:07' + INTERVAL (i * 1234567) MILLISECOND)::TIMESTAMP_MS AS ts_ms,
    (TIMESTAMP '1960-01-01 00:00:00' + INTERVAL (i * 555555) MICROSECOND)::TIMESTAMP_NS AS ts_ns,
    (i * 12.34 - 1000)::DECIMAL(8, 2) AS dec4,
    (i * 123456.789 - 1e6)::DECIMAL(15, 3) AS dec8,
    (i * 98765.4321 - 5e6)::DECIMAL(38, 4) AS dec16,
    CASE WHEN i % 6 = 0 THEN NULL
      ELSE TIMESTAMPTZ '2010-06-07 08:09:10+00' + INTERVAL (i * 7777777) MICROSECOND END AS tstz,
    ('{"k": ' || i || ', "v": [' || (i % 4) || ']}')::JSON AS js,
    ['lo', 'mid', 'hi'][i % 3 + 1]::ENUM('lo', 'mid', 'hi') AS en,
    (i * 500 % 65000)::USMALLINT AS u16
  FROM range(120) r(i)`;
// the CSV of it: the zoned timestamp as UTC without its zone
const typesCsv = `SELECT * REPLACE (tstz::TIMESTAMP AS tstz) FROM (${types})`;

// small ints and a string, enough rows for several row groups
const groups = `
  SELECT i::INTEGER AS id, (i % 17)::BIGINT AS k,
         CASE WHEN i % 10 = 3 THEN NULL ELSE 'g' || (i % 23) END AS g
  FROM range(5000) r(i)`;

async function main() {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  const out = async (sql, name, opts) => {
    await con.run(`COPY (${sql}) TO ${q(name + '.parquet')} (FORMAT parquet${opts})`);
  };
  await con.run(`SET TimeZone = 'UTC'`);
  for (const codec of ['uncompressed', 'snappy', 'zstd', 'gzip', 'lz4', 'brotli']) {
    await out(types, 'types_' + codec, `, COMPRESSION '${codec}'`);
  }
  await con.run(`COPY (${typesCsv}) TO ${q('types.csv')} (HEADER, DELIMITER ',')`);
  await out(groups, 'groups', `, COMPRESSION 'zstd', ROW_GROUP_SIZE 2048`);
  await con.run(`COPY (${groups}) TO ${q('groups.csv')} (HEADER, DELIMITER ',')`);
  // data pages v2: DuckDB then picks DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY
  // and BYTE_STREAM_SPLIT for some columns
  await out(`SELECT id, g FROM (${groups}) WHERE id < 1000`, 'v2', `, PARQUET_VERSION V2`);
  await con.run(`COPY (SELECT id, g FROM (${groups}) WHERE id < 1000) TO ${q('v2.csv')} (HEADER)`);
  await out(types, 'types_v2', `, PARQUET_VERSION V2`);
  await out(groups, 'groups_v2', `, PARQUET_VERSION V2, COMPRESSION 'lz4', ROW_GROUP_SIZE 1000`);
  // not supported: an unsigned value past int64, a nested column; lz4: LZ4_RAW
  await out(`SELECT 18446744073709551615::UBIGINT AS big, 1 AS small`, 'u64_big', '');
  await out(`SELECT 1 AS id, [1, 2] AS list`, 'nested', '');
  await out(`SELECT i AS x FROM range(10) r(i)`, 'lz4', `, COMPRESSION 'lz4'`);
}
main().catch((e) => { console.error(e.message); process.exit(1); });
