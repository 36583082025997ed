// Checks the files tests/interop/parquet_write.lua wrote (folder as argument)
// with DuckDB and Polars: types, values (against tally's CSV of the same
// table, read by DuckDB with the types given), row groups, statistics,
// encodings and codecs. Exits 1 on the first mismatch.
const { DuckDBInstance } = require('@duckdb/node-api');
const pl = require('nodejs-polars');
const path = require('path');

const dir = process.argv[2];
const f = (name) => `'${path.join(dir, name).replace(/'/g, "''")}'`;
const fail = (msg) => { console.error('parquet_write: ' + msg); process.exit(1); };
const want = { b: 'BOOLEAN', i: 'BIGINT', f: 'DOUBLE', s: 'VARCHAR', low: 'VARCHAR', d: 'DATE',
               ts: 'TIMESTAMP' };
const polarsWant = { b: 'Bool', i: 'Int64', f: 'Float64', s: 'String', low: 'String', d: 'Date',
                     ts: '{"Datetime":"us"}' };
const codecs = { zstd: 'ZSTD', snappy: 'SNAPPY', gzip: 'GZIP', lz4: 'LZ4_RAW', none: 'UNCOMPRESSED' };

async function main() {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();
  const csvCols = '{' + Object.entries(want).map(([k, v]) => `'${k}': '${v}'`).join(', ') + '}';
  await con.run(`CREATE TABLE ref AS SELECT * FROM read_csv(${f('t.csv')}, header = true,
                 columns = ${csvCols}, allow_quoted_nulls = false)`);
  const nref = (await rows('SELECT count(*) AS n FROM ref'))[0].n;
  if (nref !== '3000') fail(`t.csv has ${nref} rows`);
  const canon = `SELECT b, CAST(i AS VARCHAR) AS i, f, s, low, (d - DATE '1970-01-01')::INTEGER AS d,
                 CAST(epoch_us(ts) AS VARCHAR) AS ts FROM`;
  const ref = await rows(`${canon} ref`);
  for (const [codec, name] of Object.entries(codecs)) {
    const file = `t_${codec}.parquet`;
    // DuckDB: types, values, row groups, statistics, encodings
    const desc = await rows(`DESCRIBE SELECT * FROM read_parquet(${f(file)})`);
    for (const c of desc)
      if (want[c.column_name] !== c.column_type)
        fail(`${file}: DuckDB reads ${c.column_name} as ${c.column_type}, want ${want[c.column_name]}`);
    for (const [a, b] of [['ref', `read_parquet(${f(file)})`], [`read_parquet(${f(file)})`, 'ref']]) {
      const d = await rows(`SELECT count(*) AS n FROM (SELECT * FROM ${a} EXCEPT ALL SELECT * FROM ${b})`);
      if (d[0].n !== '0') fail(`${file}: ${d[0].n} rows of ${a} not in ${b} (DuckDB)`);
    }
    const meta = await rows(`SELECT row_group_id AS g, path_in_schema AS c, stats_min_value AS mn,
      stats_max_value AS mx, stats_null_count AS nulls, encodings, compression
      FROM parquet_metadata(${f(file)})`);
    if (meta.length !== 21) fail(`${file}: ${meta.length} column chunks, want 3 row groups x 7`);
    for (const m of meta) {
      if (m.compression !== name) fail(`${file}: codec ${m.compression}, want ${name}`);
      const dict = m.encodings.includes('RLE_DICTIONARY');
      if (dict !== (m.c === 'low')) fail(`${file}: column ${m.c} encodings ${m.encodings}`);
      const sel = `FROM read_parquet(${f(file)}, file_row_number = true)
                   WHERE file_row_number // 1000 = ${m.g}`;
      const s = (await rows(`SELECT count(*) - count("${m.c}") AS nulls,
        CAST(min("${m.c}") AS VARCHAR) AS mn, CAST(max("${m.c}") AS VARCHAR) AS mx ${sel}`))[0];
      if (s.nulls !== m.nulls) fail(`${file}: row group ${m.g}, ${m.c}: null count ${m.nulls}, want ${s.nulls}`);
      if (['i', 's', 'low', 'd', 'b'].includes(m.c) && (s.mn !== m.mn || s.mx !== m.mx))
        fail(`${file}: row group ${m.g}, ${m.c}: min/max ${m.mn}/${m.mx}, want ${s.mn}/${s.mx}`);
    }
    // Polars: schema and values
    const df = pl.readParquet(path.join(dir, file));
    for (const [k, v] of Object.entries(polarsWant)) {
      const got = JSON.stringify(df.schema[k]).replace(/^\{"DataType":(.*)\}$/, '$1').replace(/^"(.*)"$/, '$1');
      if (got !== v) fail(`${file}: Polars reads ${k} as ${got}, want ${v}`);
    }
    const recs = df.select(pl.col('b'), pl.col('i').cast(pl.Utf8), pl.col('f'), pl.col('s'),
      pl.col('low'), pl.col('d').cast(pl.Int32), pl.col('ts').cast(pl.Int64).cast(pl.Utf8)).toRecords();
    if (recs.length !== ref.length) fail(`${file}: Polars reads ${recs.length} rows`);
    recs.forEach((r, k) => {
      for (const c of Object.keys(want)) {
        let a = r[c], b = ref[k][c];
        if (c === 'f' && typeof b === 'string') b = Number(b === 'Infinity' ? Infinity : b === '-Infinity' ? -Infinity : NaN);
        const same = a === b || (a === null && b === null) || (Number.isNaN(a) && Number.isNaN(b)) ||
                     (a !== null && b !== null && c === 'd' && Number(a) === Number(b));
        if (!same || (c === 'f' && a === 0 && !Object.is(a, b)))
          fail(`${file}: Polars row ${k + 1}, ${c}: ${a}, want ${b}`);
      }
    });
  }
  // dictionary columns over row groups; the empty table keeps its types
  await con.run(`CREATE TABLE dref AS SELECT * FROM read_csv(${f('dict.csv')}, header = true,
                 columns = {'color': 'VARCHAR', 's': 'VARCHAR', 'i64': 'BIGINT'}, allow_quoted_nulls = false)`);
  for (const [a, b] of [['dref', `read_parquet(${f('dict.parquet')})`], [`read_parquet(${f('dict.parquet')})`, 'dref']]) {
    const d = await rows(`SELECT count(*) AS n FROM (SELECT * FROM ${a} EXCEPT ALL SELECT * FROM ${b})`);
    if (d[0].n !== '0') fail(`dict.parquet: ${d[0].n} rows of ${a} not in ${b}`);
  }
  const pd = pl.readParquet(path.join(dir, 'dict.parquet'));
  const dd = await rows(`SELECT color FROM read_parquet(${f('dict.parquet')})`);
  if (pd.height !== dd.length || pd.getColumn('color').toArray().some((v, k) => v !== dd[k].color))
    fail('dict.parquet: Polars reads other colors than DuckDB');
  const ed = await rows(`DESCRIBE SELECT * FROM read_parquet(${f('empty.parquet')})`);
  const en = await rows(`SELECT count(*) AS n FROM read_parquet(${f('empty.parquet')})`);
  if (en[0].n !== '0' || ed.map((c) => c.column_type).join() !== Object.values(want).join())
    fail(`empty.parquet: DuckDB reads ${en[0].n} rows, types ${ed.map((c) => c.column_type)}`);
  const pe = pl.readParquet(path.join(dir, 'empty.parquet'));
  if (pe.height !== 0 || pe.width !== 7) fail(`empty.parquet: Polars reads ${pe.height} x ${pe.width}`);
  console.log('parquet_write: DuckDB and Polars read every file with the same types and values');
}
main().catch((e) => fail(e.message));
