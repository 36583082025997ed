// The DuckDB and Polars sides of parquet_read.sh, and the writing of its file.
//   node parquet_read.js write CSV PARQUET THREADS   (DuckDB, zstd)
//   node parquet_read.js duckdb PARQUET THREADS      (into a table)
//   node parquet_read.js polars PARQUET THREADS      (readParquet)
// prints "@read SECONDS rows=N" for the read alone.
const [what, a, b, c] = process.argv.slice(2);
const now = () => Number(process.hrtime.bigint()) / 1e9;
const q = (s) => `'${s.replace(/'/g, "''")}'`;

async function duck(threads) {
  const { DuckDBInstance } = require('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  return db.connect();
}

async function main() {
  if (what === 'write') {
    const con = await duck(c);
    await con.run(`COPY (SELECT * FROM read_csv(${q(a)})) TO ${q(b)} (FORMAT parquet, COMPRESSION zstd)`);
  } else if (what === 'duckdb') {
    const con = await duck(b);
    const t0 = now();
    await con.run(`CREATE TABLE t AS SELECT * FROM read_parquet(${q(a)})`);
    const t = now() - t0;
    const n = (await con.runAndReadAll('SELECT count(*) FROM t')).getRows()[0][0];
    console.log(`@read ${t.toFixed(4)} rows=${n}`);
  } else if (what === 'polars') {
    process.env.POLARS_MAX_THREADS = String(b);
    const pl = require('nodejs-polars');
    const t0 = now();
    const df = pl.readParquet(a);
    console.log(`@read ${(now() - t0).toFixed(4)} rows=${df.height}`);
  }
}
main().catch((e) => { console.error(e.message); process.exit(1); });
