// DuckDB side of windows.sh: avg(cost) over the 30 rows ending at each row of
// its program ordered by id, and cost / sum(cost) over the program, each
// materialised as a table of the new column (tally's mutate shares the
// other columns), timed in process (median of REPS).
//   node windows_duck.js CSV THREADS REPS
const { DuckDBInstance } = require('@duckdb/node-api');

const now = () => Number(process.hrtime.bigint()) / 1e9;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[(s.length - 1) >> 1]; };

async function main() {
  const [csv, threads = '2', reps = '3'] = process.argv.slice(2);
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const con = await db.connect();
  await con.run(`CREATE TABLE t AS SELECT * FROM read_csv('${csv.replace(/'/g, "''")}')`);
  const check = (c) => `SELECT count(*), printf('sum=%.6e nonnull=%d', sum(${c}), count(${c})) FROM r`;
  const q = {
    rolling_mean: [`CREATE OR REPLACE TABLE r AS SELECT avg(cost) OVER (PARTITION BY program
      ORDER BY id ROWS BETWEEN 29 PRECEDING AND CURRENT ROW) AS r FROM t`, check('r')],
    share: [`CREATE OR REPLACE TABLE r AS SELECT cost / sum(cost) OVER (PARTITION BY program)
      AS share FROM t`, check('share')],
  };
  // wall seconds and CPU seconds (of every thread of the process), medians
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  for (const [name, [sql, chk]] of Object.entries(q)) {
    const ts = [], cs = [];
    for (let i = 0; i < Number(reps); i++) {
      const t0 = now(), c0 = cpu();
      await con.run(sql);
      ts.push(now() - t0);
      cs.push(cpu() - c0);
    }
    const row = (await con.runAndReadAll(chk)).getRows()[0];
    console.log(`@time ${name} ${median(ts).toFixed(4)} cpu=${median(cs).toFixed(4)} rows=${row[0]} ${row[1]}`);
  }
}
main().catch((e) => { console.error(e.message); process.exit(1); });
