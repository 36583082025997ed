// Writes duckdb_dates.csv: dates and timestamps with the values DuckDB gives
// for the date functions tally mirrors, so that tests/lua/test_dates.lua can
// compare without node. Run: NODE_PATH=... node tests/data/dates/make_duckdb.js
const duckdb = require('@duckdb/node-api');
const fs = require('fs');
const path = require('path');

const fixed = ['0001-01-01', '1600-02-29', '1899-12-31', '1900-02-28', '1900-03-01', '1969-12-31',
  '1970-01-01', '2000-02-29', '2000-12-31', '2004-12-31', '2008-12-29', '2009-12-31', '2010-01-03',
  '2015-01-31', '2015-02-28', '2016-02-29', '2016-12-31', '2020-12-31', '2021-01-03', '9999-12-31'];
let seed = 12345;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const rows = [];
for (const d of fixed) rows.push([d, `${d} 00:00:00`]);
for (let k = 0; k < 80; k++) {
  const y = 1800 + rnd(400), m = 1 + rnd(12), d = 1 + rnd(28);
  const p = (x, w) => String(x).padStart(w, '0');
  const ts = `${p(y, 4)}-${p(m, 2)}-${p(d, 2)} ${p(rnd(24), 2)}:${p(rnd(60), 2)}:${p(rnd(60), 2)}.${p(rnd(1000000), 6)}`;
  rows.push([`${p(y, 4)}-${p(m, 2)}-${p(d, 2)}`, ts]);
}

(async () => {
  const inst = await duckdb.DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  await con.run('create table t (d date, ts timestamp)');
  for (const [d, ts] of rows) await con.run(`insert into t values ('${d}', '${ts}')`);
  const q = `select strftime(d, '%Y-%m-%d') as d, strftime(ts, '%Y-%m-%d %H:%M:%S.%f') as ts,
    isodow(d) as weekday, dayofyear(d) as yearday, quarter(d) as quarter, week(d) as week,
    hour(ts) as hour, minute(ts) as minute, second(ts) as second,
    strftime(date_trunc('year', d), '%Y-%m-%d') as tr_year,
    strftime(date_trunc('quarter', d), '%Y-%m-%d') as tr_quarter,
    strftime(date_trunc('month', d), '%Y-%m-%d') as tr_month,
    strftime(date_trunc('week', d), '%Y-%m-%d') as tr_week,
    strftime(date_trunc('hour', ts), '%Y-%m-%d %H:%M:%S') as tr_hour,
    strftime(date_trunc('minute', ts), '%Y-%m-%d %H:%M:%S') as tr_minute,
    date_diff('year', d, date '2016-02-29') as diff_year,
    date_diff('quarter', d, date '2016-02-29') as diff_quarter,
    date_diff('month', d, date '2016-02-29') as diff_month,
    date_diff('week', d, date '2016-02-29') as diff_week,
    date_diff('day', d, date '2016-02-29') as diff_day,
    date_diff('hour', ts, timestamp '2016-02-29 12:30:00') as diff_hour,
    date_diff('minute', ts, timestamp '2016-02-29 12:30:00') as diff_minute,
    date_sub('year', d, date '2016-02-29') as sub_year,
    date_sub('month', d, date '2016-02-29') as sub_month,
    date_sub('quarter', d, date '2016-02-29') as sub_quarter,
    date_sub('week', d, date '2016-02-29') as sub_week,
    date_sub('day', ts, timestamp '2016-02-29 12:30:00') as sub_day,
    date_sub('month', ts, timestamp '2016-02-29 12:30:00') as sub_month_ts,
    strftime(d + interval 1 month, '%Y-%m-%d') as add_month,
    strftime(d + interval 13 month, '%Y-%m-%d') as add_13_months,
    strftime(d - interval 1 year, '%Y-%m-%d') as sub_1_year,
    strftime(ts + interval 90 minute, '%Y-%m-%d %H:%M:%S.%f') as add_90_minutes,
    epoch(ts) as epoch,
    strftime(d, '%b %d %Y') as s_bdy,
    strftime(d, '%A %B %j %y') as s_long,
    strftime(ts, '%d/%m/%Y %I:%M:%S %p') as s_12h,
    strftime(strptime(strftime(d, '%b %d %Y'), '%b %d %Y'), '%Y-%m-%d') as back
    from t`;
  const r = await con.runAndReadAll(q);
  const names = r.columnNames();
  const out = [names.join(',')];
  for (const row of r.getRowsJson()) out.push(row.map((v) => (v === null ? '' : String(v))).join(','));
  fs.writeFileSync(path.join(__dirname, 'duckdb_dates.csv'), out.join('\n') + '\n');
})();
