// DuckDB side of verbs.sh: a full sort by cost and a join with a 200-row
// country table, each materialised as a table, timed in process (median of REPS).
//   node verbs_duck.js CSV THREADS REPS
const { DuckDBInstance } = require('@duckdb/node-api');

const now = () => Number(process.hrtime.bigint()) / 1e9;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[(s.length - 1) >> 1]; };

async function main() {
  const [csv, threads = '2', reps = '3'] = process.argv.slice(2);
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const con = await db.connect();
  await con.run(`CREATE TABLE t AS SELECT * FROM read_csv('${csv.replace(/'/g, "''")}')`);
  await con.run(`CREATE TABLE c AS SELECT DISTINCT country, length(country) AS code FROM t`);
  const q = {
    sort: `CREATE OR REPLACE TABLE s AS SELECT * FROM t ORDER BY cost DESC NULLS LAST`,
    join: `CREATE OR REPLACE TABLE j AS SELECT * FROM t JOIN c USING (country)`,
  };
  for (const [name, sql] of Object.entries(q)) {
    const ts = [];
    for (let i = 0; i < Number(reps); i++) {
      const t0 = now();
      await con.run(sql);
      ts.push(now() - t0);
    }
    const n = (await con.runAndReadAll(`SELECT count(*) AS n FROM ${name === 'sort' ? 's' : 'j'}`)).getRows()[0][0];
    console.log(`@time ${name} ${median(ts).toFixed(4)} rows=${n}`);
  }
}
main().catch((e) => { console.error(e.message); process.exit(1); });
