// DuckDB side of expr_dates.sh: strptime(s, '%b %d %Y')::DATE, date_trunc('month', d)
// and a group by it, each materialised as a table, timed in process (median of REPS).
//   node expr_dates_duck.js CSV THREADS REPS
const { DuckDBInstance } = require('@duckdb/node-api');

const now = () => Number(process.hrtime.bigint()) / 1e9;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[(s.length - 1) >> 1]; };

async function main() {
  const [csv, threads = '2', reps = '3'] = process.argv.slice(2);
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const con = await db.connect();
  await con.run(`CREATE TABLE t0 AS SELECT *, make_date(year, month, 1) AS d FROM read_csv('${csv.replace(/'/g, "''")}')`);
  await con.run(`CREATE TABLE t AS SELECT *, strftime(d, '%b %d %Y') AS s FROM t0`);
  const q = {
    to_date: [`CREATE OR REPLACE TABLE r AS SELECT strptime(s, '%b %d %Y')::DATE AS x FROM t`,
      `SELECT count(*), 'max=' || max(x) FROM r`],
    date_trunc: [`CREATE OR REPLACE TABLE r AS SELECT date_trunc('month', d) AS m FROM t`,
      `SELECT count(*), 'min=' || min(m) FROM r`],
    group_trunc: [`CREATE OR REPLACE TABLE r AS SELECT date_trunc('month', d) AS m, count(*) AS n,
      sum(cost) AS c FROM t GROUP BY m`, `SELECT count(*), 'groups=' || count(*) FROM r`],
  };
  // wall seconds and CPU seconds (of every thread of the process), medians
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  for (const [name, [sql, check]] of Object.entries(q)) {
    const ts = [], cs = [];
    for (let i = 0; i < Number(reps); i++) {
      const t0 = now(), c0 = cpu();
      await con.run(sql);
      ts.push(now() - t0);
      cs.push(cpu() - c0);
    }
    const row = (await con.runAndReadAll(check)).getRows()[0];
    console.log(`@time ${name} ${median(ts).toFixed(4)} cpu=${median(cs).toFixed(4)} rows=${row[0]} ${row[1]}`);
  }
}
main().catch((e) => { console.error(e.message); process.exit(1); });
