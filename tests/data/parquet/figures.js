// The figures DuckDB reads from each Parquet file of tests/data/parquet that
// DuckDB or Polars wrote: for every column its count, sum, min, max and
// distinct count, written as a Lua table for figures_check.lua to compare
// with what tally.read_parquet reads. Sums are doubles (decimals read as
// doubles, booleans as 0/1), timestamps are UTC at microseconds.
//   NODE_PATH=<dir with @duckdb/node-api> node tests/data/parquet/figures.js OUT.lua [FILE...]
// Without files: every *.parquet here but the two that are meant to fail
// (u64_big, nested). figures.lua beside this script is its output.
const { DuckDBInstance } = require('@duckdb/node-api');
const fs = require('fs');
const path = require('path');

const out = process.argv[2];
let files = process.argv.slice(3);
if (files.length === 0) {
  files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.parquet') &&
    f !== 'u64_big.parquet' && f !== 'nested.parquet').sort()
    .map((f) => path.join(__dirname, f));
}

// Lua's long-string-free quoting: every byte outside printable ASCII as \ddd.
const luaString = (s) => '"' + [...Buffer.from(s, 'utf8')].map((b) =>
  b === 34 || b === 92 ? '\\' + String.fromCharCode(b)
    : b >= 32 && b < 127 ? String.fromCharCode(b) : '\\' + String(b).padStart(3, '0')).join('') + '"';
const lit = (v, kind) => {
  if (v === null || v === undefined) return 'nil';
  if (kind === 'string' || kind === 'date' || kind === 'timestamp') return luaString(String(v));
  if (kind === 'bool') return String(v);
  if (kind === 'int') return String(v);                 // BigInt text, exact
  const d = Number(v);
  return Number.isFinite(d) ? d.toPrecision(17) : d > 0 ? '1/0' : d < 0 ? '-1/0' : '0/0';
};

function kindOf(type) {
  if (type === 'BOOLEAN') return 'bool';
  if (/^U?(TINY|SMALL|BIG)?INT(EGER)?$/.test(type)) return 'int';
  if (/^(FLOAT|DOUBLE|DECIMAL)/.test(type)) return 'float';
  if (type === 'DATE') return 'date';
  if (type.startsWith('TIMESTAMP')) return 'timestamp';
  return 'string';
}

async function main() {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  await con.run(`SET TimeZone = 'UTC'`);
  const lines = ['-- written by figures.js: what DuckDB reads from each file', 'return {'];
  for (const file of files) {
    const src = `read_parquet('${file.replace(/'/g, "''")}')`;
    const desc = await con.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`);
    lines.push(`  [${luaString(path.basename(file))}] = {`);
    for (const [name, type] of desc.getRows()) {
      const kind = kindOf(String(type));
      const q = `"${String(name).replace(/"/g, '""')}"`;
      let v = q;                                       // what min and max compare
      if (kind === 'timestamp') v = `strftime(${q}::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%f')`;
      else if (kind === 'date') v = `strftime(${q}, '%Y-%m-%d')`;
      else if (kind === 'float') v = `${q}::DOUBLE`;
      else if (kind === 'string') v = `${q}::VARCHAR`;
      const sum = kind === 'bool' ? `sum(${q}::INTEGER)::DOUBLE`
        : kind === 'int' || kind === 'float' ? `sum(${q}::DOUBLE)` : 'NULL';
      const r = await con.runAndReadAll(`SELECT count(${q}), ${sum}, min(${v})::VARCHAR,
        max(${v})::VARCHAR, count(DISTINCT ${q}) FROM ${src}`);
      const [count, s, mn, mx, distinct] = r.getRows()[0];
      const conv = (x) => (x === null ? null : kind === 'bool' ? x === 'true'
        : kind === 'float' ? Number(x) : x);
      lines.push(`    { name = ${luaString(String(name))}, type = "${kind}", count = ${count}, ` +
        `sum = ${lit(s, 'float')}, min = ${lit(conv(mn), kind)}, max = ${lit(conv(mx), kind)}, ` +
        `distinct = ${distinct} },`);
    }
    lines.push('  },');
  }
  lines.push('}');
  fs.writeFileSync(out, lines.join('\n') + '\n');
}
main().catch((e) => { console.error(e.message); process.exit(1); });
