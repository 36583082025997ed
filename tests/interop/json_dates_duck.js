// DuckDB's reading of the JSON files with dates, for json_dates.sh: per file,
// DIR/<file>.txt holds a line of column types, then one line per row, the
// values separated by '|', dates and timestamps as %Y-%m-%d %H:%M:%S.%f.
//   node tests/interop/json_dates_duck.js DIR
const { DuckDBInstance } = require('@duckdb/node-api');
const fs = require('fs');
const path = require('path');

const files = [
  ['crimea.json', ''],
  ['unemployment40.json', ''],
  ['flights40.json', ", timestampformat = '%Y/%m/%d %H:%M'"],
];
const kinds = { DATE: 'date', TIMESTAMP: 'timestamp', BIGINT: 'int', HUGEINT: 'int',
  DOUBLE: 'float', VARCHAR: 'string', BOOLEAN: 'bool' };

async function main() {
  const dir = process.argv[2];
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const rows = async (sql) => (await con.runAndReadAll(sql)).getRows();
  for (const [file, opt] of files) {
    const src = `read_json('${path.join('tests/data/json', file)}'${opt})`;
    const cols = await rows(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${src})`);
    const types = cols.map(([, t]) => {
      if (!kinds[t]) throw new Error(`${file}: unexpected type ${t}`);
      return kinds[t];
    });
    const sel = cols.map(([name], j) => {
      const q = `"${name}"`;
      return types[j] === 'date' || types[j] === 'timestamp'
        ? `strftime(${q}, '%Y-%m-%d %H:%M:%S.%f')` : `CAST(${q} AS VARCHAR)`;
    }).join(', ');
    const lines = [types.join('|')];
    for (const r of await rows(`SELECT ${sel} FROM ${src}`)) lines.push(r.map(v => v ?? 'null').join('|'));
    fs.writeFileSync(path.join(dir, `${file}.txt`), lines.join('\n') + '\n');
  }
}
main().catch((e) => { console.error(e.message); process.exit(1); });
