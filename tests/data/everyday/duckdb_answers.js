// Writes duckdb_answers.lua: DuckDB's answers to the text, regex, operator
// and aggregate cases that tests/lua/test_text.lua, test_regex.lua and
// test_aggregates2.lua check tally against, so those tests run without node.
// Run from the repository root:
//   NODE_PATH=/root/.cache/table-anchors/node_modules node tests/data/everyday/duckdb_answers.js
const { DuckDBInstance } = require('@duckdb/node-api');
const fs = require('fs');

const S = ['École', 'straße', 'a\u0301b', '', null, '  hi  ', 'ΑΣ ω', 'w123', 'ab 12',
  'x_y%z', 'Ünïcödé', 'a,b,,c', '日本語テキスト', 'MiXeD CaSe', 'cd 7', 'e\u0301e\u0301'];
const N = [1, 2, -1, 3, 0, 5, null, 2, -2, 4, 1, 3, 2, 7, -3, 1];

// [kind, tally expression, DuckDB expression]; kind s, i, f or b
const scalar = [
  ['s', 'lower(s)', 'lower(s)'], ['s', 'upper(s)', 'upper(s)'], ['i', 'len(s)', 'length(s)'],
  ['s', 'reverse(s)', 'reverse(s)'], ['s', 'left(s, 2)', 'left(s, 2)'],
  ['s', 'left(s, n)', 'left(s, n)'], ['s', 'right(s, 3)', 'right(s, 3)'],
  ['s', 'right(s, n)', 'right(s, n)'], ['s', "replace(s, 'a', '--')", "replace(s, 'a', '--')"],
  ['s', "replace(s, 'é', 'E')", "replace(s, 'é', 'E')"],
  ['s', "split_part(s, ',', 2)", "split_part(s, ',', 2)"],
  ['s', "split_part(s, ' ', -1)", "split_part(s, ' ', -1)"],
  ['s', "split_part(s, ',', n)", "split_part(s, ',', n)"],
  ['s', "lpad(s, 8, '·-')", "lpad(s, 8, '·-')"], ['s', "rpad(s, 6, 'ab')", "rpad(s, 6, 'ab')"],
  ['s', 'trim(s)', 'trim(s)'], ['s', 'strip(s)', 'trim(s)'],
  ['s', "ltrim(s, ' hxÉ')", "ltrim(s, ' hxÉ')"], ['s', "rtrim(s, 'ezé ')", "rtrim(s, 'ezé ')"],
  ['s', "trim(s, 'a ')", "trim(s, 'a ')"],
  ['i', "strpos(s, 'a')", "strpos(s, 'a')"], ['i', "strpos(s, 'ö')", "strpos(s, 'ö')"],
  ['s', "concat(s, '|', s)", "concat(s, '|', s)"], ['s', 'repeat(s, 2)', 'repeat(s, 2)'],
  ['b', "s like '%a%'", "s like '%a%'"], ['b', "s ilike '%É%'", "s ilike '%É%'"],
  ['b', "s like '_b%'", "s like '_b%'"], ['b', "s not like 'w%'", "s not like 'w%'"],
  ['b', "s like 'x|_y|%z' escape '|'", "s like 'x|_y|%z' escape '|'"],
  ['b', "s like ''", "s like ''"], ['b', "s like '%'", "s like '%'"],
  ['b', "s ilike 'école'", "s ilike 'école'"], ['b', "s like '%c%'", "s like '%c%'"],
  ['b', "regexp_matches(s, '^[a-z]+ [0-9]+$')", "regexp_matches(s, '^[a-z]+ [0-9]+$')"],
  ['b', "regexp_matches(s, '\\d')", "regexp_matches(s, '\\d')"],
  ['b', "regexp_matches(s, '^.b$')", "regexp_matches(s, '^.b$')"],
  ['s', "regexp_replace(s, '([aeiou])', '<\\1>')", "regexp_replace(s, '([aeiou])', '<\\1>', 'g')"],
  ['s', "regexp_replace(s, 'a*', '.')", "regexp_replace(s, 'a*', '.', 'g')"],
  ['s', "regexp_replace(s, '\\s+', '_')", "regexp_replace(s, '\\s+', '_', 'g')"],
  ['s', "regexp_replace(s, '(\\w)(\\w)', '\\2\\1')", "regexp_replace(s, '(\\w)(\\w)', '\\2\\1', 'g')"],
  ['s', "regexp_extract(s, '([a-z]+) ([0-9]+)', 2)", "regexp_extract(s, '([a-z]+) ([0-9]+)', 2)"],
  ['s', "regexp_extract(s, '[0-9]+')", "regexp_extract(s, '[0-9]+')"],
  ['s', "regexp_extract(s, '\\p{Lu}+')", "regexp_extract(s, '\\p{Lu}+')"],
  ['b', 'n in (1, 3, null)', 'n in (1, 3, NULL)'], ['b', 'n in (1, 3)', 'n in (1, 3)'],
  ['b', 'n not in (1, 2)', 'n not in (1, 2)'], ['b', "s in ('w123', 'École')", "s in ('w123', 'École')"],
  ['i', 'nullif(n, 2)', 'nullif(n, 2)'], ['i', 'greatest(n, 2)', 'greatest(n, 2)'],
  ['i', 'least(n, 0, 1)', 'least(n, 0, 1)'], ['i', 'sign(n)', 'sign(n)'],
  ['s', "greatest(s, 'm')", "greatest(s, 'm')"], ['s', "least(s, 'm')", "least(s, 'm')"],
  ['f', 'greatest(n, 2.5)', 'greatest(n, 2.5)'], ['f', 'round(n / 3, 2)', 'round(n / 3, 2)'],
];

// the aggregate table: 300 rows in 5 groups, from a fixed LCG
let seed = 12345;
const rnd = (m) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % m; };
const words = ['ant', 'bee', 'cat', 'dog', 'eel', 'émeu'];
const rows = [];
for (let id = 1; id <= 300; id++) {
  const g = 'g' + rnd(5);
  const x = rnd(13) === 0 ? null : rnd(50) - 20;
  const y = rnd(17) === 0 ? null : Math.round((rnd(1000) / 7 - 40) * 1000) / 1000;
  const w = rnd(11) === 0 ? null : words[rnd(6)];
  const b = rnd(9) === 0 ? null : rnd(3) !== 0;
  const p = rnd(19) === 0 ? null : 1 + (rnd(7) - 3) / 100;
  rows.push({ id, g, x, y, w, b, p });
}
const aggs = [
  ['f', 'corr(x, y)', 'corr(x, y)'], ['f', 'covar(x, y)', 'covar_samp(x, y)'],
  ['f', 'regr_slope(y, x)', 'regr_slope(y, x)'], ['f', 'regr_intercept(y, x)', 'regr_intercept(y, x)'],
  ['s', 'mode(w)', 'mode(w)'], ['i', 'mode(x)', 'mode(x)'],
  ['s', 'arg_min(w, y)', 'arg_min(w, y)'], ['s', 'arg_max(w, x)', 'arg_max(w, x)'],
  ['f', 'arg_max(y, w)', 'arg_max(y, w)'],
  ['i', 'count_if(b)', 'count_if(b)'], ['b', 'bool_and(b)', 'bool_and(b)'],
  ['b', 'bool_or(b)', 'bool_or(b)'], ['b', 'bool_and(x > -20)', 'bool_and(x > -20)'],
  ['f', 'product(p)', 'product(p)'],
  ['s', "string_agg(w, '|')", "string_agg(w, '|' ORDER BY id)"],
  ['s', 'string_agg(w)', "string_agg(w, ',' ORDER BY id)"],
];

const lq = (s) => { let k = 0; while (s.includes(']' + '='.repeat(k) + ']')) k++; const e = '='.repeat(k); return `[${e}[${s}]${e}]`; };
function lit(kind, v) {
  if (v === null || v === undefined) return 'N';
  if (kind === 's') return lq(String(v));
  if (kind === 'b') return v ? 'true' : 'false';
  if (kind === 'i') return String(v);
  if (typeof v === 'string' && v.toLowerCase() === 'nan') return '0/0';
  return Number(v).toPrecision(17);
}

(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const vals = S.map((s, i) => `(${i + 1}, ${s === null ? 'NULL' : "'" + s.replace(/'/g, "''") + "'"}, ${N[i] === null ? 'NULL' : N[i]})`);
  await c.run(`create table t as select * from (values ${vals.join(', ')}) v(id, s, n)`);
  const out = ['-- Written by duckdb_answers.js from DuckDB\'s answers: do not edit.', 'return function(N) return {'];
  out.push('  text = { s = { ' + S.map((s) => lit('s', s)).join(', ') + ' },');
  out.push('    n = { ' + N.map((n) => lit('i', n)).join(', ') + ' },');
  out.push('    cases = {');
  for (const [kind, te, de] of scalar) {
    const r = await c.runAndReadAll(`select ${de} as v from t order by id`);
    const v = r.getRowObjectsJson().map((o) => lit(kind, o.v));
    out.push(`      { ${lq(te)}, { ${v.join(', ')} } },`);
  }
  out.push('  } },');
  const rv = rows.map((r) => `(${r.id}, '${r.g}', ${r.x ?? 'NULL'}, ${r.y ?? 'NULL'}, ${r.w === null ? 'NULL' : "'" + r.w + "'"}, ${r.b ?? 'NULL'}, ${r.p ?? 'NULL'})`);
  await c.run(`create table a as select * from (values ${rv.join(', ')}) v(id, g, x, y, w, b, p)`);
  const col = (k, kind) => rows.map((r) => lit(kind, r[k])).join(', ');
  out.push(`  agg = { g = { ${col('g', 's')} },`, `    x = { ${col('x', 'i')} },`,
    `    y = { ${col('y', 'f')} },`, `    w = { ${col('w', 's')} },`, `    b = { ${col('b', 'b')} },`,
    `    p = { ${col('p', 'f')} },`, '    cases = {');
  for (const [kind, te, de] of aggs) {
    const r = await c.runAndReadAll(`select g, ${de} as v from a group by g order by g`);
    const v = r.getRowObjectsJson().map((o) => `${lq(o.g)}, ${lit(kind, o.v)}`);
    out.push(`      { ${lq(te)}, { ${v.join(', ')} } },`);
  }
  out.push('  } },', '} end');
  fs.writeFileSync(__dirname + '/duckdb_answers.lua', out.join('\n') + '\n');
})();
