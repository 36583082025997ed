// DuckDB side of parquet_write.sh: COPY t TO (FORMAT parquet, zstd) of the
// benchmark table loaded in memory, timed in process (median of REPS: wall-clock and CPU seconds of the
// process, DuckDB's threads included).
//   node parquet_write_duck.js CSV THREADS REPS OUT
const { DuckDBInstance } = require('@duckdb/node-api');
const fs = require('fs');

const now = () => Number(process.hrtime.bigint()) / 1e9;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[(s.length - 1) >> 1]; };

async function main() {
  const [csv, threads = '2', reps = '3', out] = process.argv.slice(2);
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const con = await db.connect();
  await con.run(`CREATE TABLE t AS SELECT * FROM read_csv('${csv.replace(/'/g, "''")}')`);
  const ts = [], cpu = [];
  for (let i = 0; i < Number(reps); i++) {
    const t0 = now(), c0 = process.cpuUsage();
    await con.run(`COPY t TO '${out.replace(/'/g, "''")}' (FORMAT parquet, COMPRESSION zstd)`);
    const c = process.cpuUsage(c0);
    ts.push(now() - t0);
    cpu.push((c.user + c.system) / 1e6);
  }
  const n = (await con.runAndReadAll('SELECT count(*) FROM t')).getRows()[0][0];
  console.log(`@time write_parquet ${median(ts).toFixed(4)} cpu=${median(cpu).toFixed(4)} rows=${n} bytes=${fs.statSync(out).size}`);
}
main().catch((e) => { console.error(e.message); process.exit(1); });
