// DuckDB side of text.sh: regexp_matches on note and lower on program, each
// added as a column of a new table, timed in process (median of REPS).
//   node text_duck.js CSV THREADS REPS
const { DuckDBInstance } = require('@duckdb/node-api');

const now = () => Number(process.hrtime.bigint()) / 1e9;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[(s.length - 1) >> 1]; };

async function main() {
  const [csv, threads = '2', reps = '3'] = process.argv.slice(2);
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const con = await db.connect();
  await con.run(`CREATE TABLE t AS SELECT * FROM read_csv('${csv.replace(/'/g, "''")}')`);
  const q = {
    regexp_matches: [`CREATE OR REPLACE TABLE r AS SELECT regexp_matches(note, '^[a-z]+ [0-9]+$') AS m FROM t`,
      `SELECT 'matches=' || count_if(m) FROM r`],
    lower: [`CREATE OR REPLACE TABLE r AS SELECT lower(program) AS l FROM t`,
      `SELECT 'distinct=' || count(DISTINCT l) FROM r`],
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
    const info = (await con.runAndReadAll(check)).getRows()[0][0];
    console.log(`@time ${name} ${median(ts).toFixed(4)} cpu=${median(cs).toFixed(4)} ${info}`);
  }
}
main().catch((e) => { console.error(e.message); process.exit(1); });
