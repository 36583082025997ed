// The figures Polars reads from the Parquet files Polars wrote here
// (polars_*.parquet): each column's count, sum, min, max and distinct count,
// as a Lua table in the form figures.js writes, for figures_check.lua.
// Sums are doubles; categoricals read as strings; timestamps at
// microseconds, UTC.
//   NODE_PATH=<dir with nodejs-polars> node tests/data/parquet/figures_polars.js OUT.lua
const pl = require('nodejs-polars');
const fs = require('fs');
const path = require('path');

const out = process.argv[2];
const files = fs.readdirSync(__dirname).filter((f) => /^polars_.*\.parquet$/.test(f)).sort();

const luaString = (s) => '"' + [...Buffer.from(s, 'utf8')].map((b) =>
  b === 34 || b === 92 ? '\\' + String.fromCharCode(b)
    : b >= 32 && b < 127 ? String.fromCharCode(b) : '\\' + String(b).padStart(3, '0')).join('') + '"';
const num = (d) => (d === null || d === undefined ? 'nil' : Number(d).toPrecision(17));
const pad = (n, w) => String(n).padStart(w, '0');
const usText = (us) => {              // microseconds since 1970 as tally prints them, with .ffffff
  const ms = Math.floor(us / 1000);
  const d = new Date(ms);
  return d.toISOString().slice(0, 19) + '.' + pad(((us % 1000000) + 1000000) % 1000000, 6);
};

function kindOf(dtype) {
  const t = String(dtype);
  if (/Boolean|Bool/.test(t)) return 'bool';
  if (/U?Int(8|16|32|64)/.test(t)) return 'int';
  if (/Float/.test(t)) return 'float';
  if (/Datetime/.test(t)) return 'timestamp';
  if (/Date/.test(t)) return 'date';
  return 'string';
}

const lines = ['-- written by figures_polars.js: what Polars reads from each file', 'return {'];
for (const file of files) {
  const df = pl.readParquet(path.join(__dirname, file));
  lines.push(`  [${luaString(file)}] = {`);
  for (const name of df.columns) {
    let s = df.getColumn(name);
    const kind = kindOf(s.dtype);
    const nulls = s.nullCount();
    const count = s.len() - nulls;
    const distinct = s.nUnique() - (nulls > 0 ? 1 : 0);
    let sum = 'nil', min = 'nil', max = 'nil';
    if (count > 0) {
      if (kind === 'int' || kind === 'float' || kind === 'bool') sum = num(s.cast(pl.Float64).sum());
      if (kind === 'int') { min = String(s.min()); max = String(s.max()); }
      if (kind === 'float') { min = num(s.min()); max = num(s.max()); }
      if (kind === 'bool') {
        const f = s.cast(pl.Float64);
        min = String(f.min() === 1);
        max = String(f.max() === 1);
      }
      if (kind === 'string') {
        const v = s.cast(pl.Utf8).dropNulls().toArray().sort((a, b) =>
          Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
        min = luaString(v[0]);
        max = luaString(v[v.length - 1]);
      }
      if (kind === 'date') {
        const d = s.cast(pl.Int32);
        const day = (x) => new Date(x * 86400000).toISOString().slice(0, 10);
        min = luaString(day(d.min()));
        max = luaString(day(d.max()));
      }
      if (kind === 'timestamp') {
        const us = s.cast(pl.Datetime('us')).cast(pl.Int64);
        min = luaString(usText(Number(us.min())));
        max = luaString(usText(Number(us.max())));
      }
    }
    lines.push(`    { name = ${luaString(name)}, type = "${kind}", count = ${count}, sum = ${sum}, ` +
      `min = ${min}, max = ${max}, distinct = ${distinct} },`);
  }
  lines.push('  },');
}
lines.push('}');
fs.writeFileSync(out, lines.join('\n') + '\n');
