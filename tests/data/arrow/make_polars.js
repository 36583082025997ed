// Writes the Arrow IPC files of this folder with Polars (nodejs-polars), and
// expected.lua: what Polars reads back from them, column by column (count of
// non-null values, sum, min, max), for tests/lua/test_arrow_ipc.lua.
//
//   NODE_PATH=/root/.cache/table-anchors/node_modules node tests/data/arrow/make_polars.js [DIR]
//
// With DIR (tests/interop/arrow.sh), the files and expected.lua go there and
// the fuzz seeds are not written.
//
// Every file holds the same 300 rows: ints of every width and sign, float32
// and float64, a decimal, strings (Polars writes string views), a
// categorical (a dictionary), a date, timestamps in ms, us, ns and with a
// zone, and bools, each with nulls. polars_batches.arrows holds them in three
// record batches; polars_nested.arrow has a list column beside an int one.
const pl = require("nodejs-polars");
const fs = require("fs");
const path = require("path");

const dir = process.argv[2] || __dirname;
const N = 300;
let seed = 12345;
function rnd() {   // a small LCG: the same data on every run
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
function column(gen, nullEvery) {
  const out = [];
  for (let i = 0; i < N; i++) out.push(i % nullEvery === 3 ? null : gen(i));
  return out;
}
const int = (lo, hi) => () => lo + Math.floor(rnd() * (hi - lo + 1));
const words = ["alpha", "beta", "gamma", "a string longer than twelve bytes", "", "δέλτα", "x"];

const cols = {
  i8: [column(int(-128, 127), 7), pl.Int8],
  i16: [column(int(-32768, 32767), 9), pl.Int16],
  i32: [column(int(-2147483648, 2147483647), 11), pl.Int32],
  i64: [column(int(-9e15, 9e15), 13), pl.Int64],
  u8: [column(int(0, 255), 8), pl.UInt8],
  u16: [column(int(0, 65535), 10), pl.UInt16],
  u32: [column(int(0, 4294967295), 12), pl.UInt32],
  u64: [column(int(0, 9e15), 14), pl.UInt64],
  f32: [column(() => Math.round((rnd() - 0.5) * 1e4) / 8, 6), pl.Float32],
  f64: [column(() => (rnd() - 0.5) * 1e6, 5), pl.Float64],
  dec: [column(() => Math.round((rnd() - 0.5) * 1e7) / 1000, 9), pl.Decimal(12, 3)],
  s: [column((i) => words[i % words.length] + (i % 3 ? "" : String(i)), 10), pl.Utf8],
  cat: [column(() => ["north", "south", "east", "west"][Math.floor(rnd() * 4)], 7), pl.Categorical],
  d: [column(int(-20000, 30000), 11), pl.Date],
  ts_ms: [column(int(-1e12, 2e12), 9), pl.Datetime("ms")],
  ts_us: [column(int(-1e15, 2e15), 8), pl.Datetime("us")],
  ts_ns: [column(int(-1e15, 2e15), 7), pl.Datetime("ns")],   // scaled by 1000 below
  ts_tz: [column(int(0, 2e15), 10), pl.Datetime("us", "UTC")],
  b: [column(() => rnd() < 0.5, 6), pl.Bool],
};

const series = [];
for (const [name, [values, type]] of Object.entries(cols)) {
  let s;
  if (name === "d") s = pl.Series(name, values, pl.Int32).cast(pl.Date);
  else if (name.startsWith("ts_")) {
    s = pl.Series(name, values, pl.Int64);
    if (name === "ts_ns") {   // microseconds to nanoseconds, plus some nanoseconds
      const extra = pl.Series("e", values.map((x, i) => (i * 7) % 1000), pl.Int64);
      s = s.cast(pl.Datetime("us")).cast(pl.Datetime("ns")).cast(pl.Int64).add(extra);
    }
    s = s.cast(type);
  } else if (name === "dec" || name === "cat" || name.startsWith("u") || name === "f32")
    s = pl.Series(name, values, name === "cat" ? pl.Utf8 : pl.Float64).cast(type);
  else s = pl.Series(name, values, type);
  series.push(s.rename(name));
}
const df = pl.DataFrame(series);

for (const c of ["uncompressed", "lz4", "zstd"]) {
  const short = c === "uncompressed" ? "none" : c;
  fs.writeFileSync(path.join(dir, `polars_${short}.arrow`), df.writeIPC({ compression: c }));
  fs.writeFileSync(path.join(dir, `polars_${short}.arrows`), df.writeIPCStream({ compression: c }));
}
const thirds = pl.concat([df.slice(0, 100), df.slice(100, 100), df.slice(200, 100)],
                         { rechunk: false, how: "vertical" });
// the file format allows one dictionary per column, so three batches go in a stream
fs.writeFileSync(path.join(dir, "polars_batches.arrows"), thirds.writeIPCStream({ compression: "zstd" }));
const nested = pl.DataFrame({ id: [1, 2, 3], tags: [[1, 2], [3], []] });
fs.writeFileSync(path.join(dir, "polars_nested.arrow"), nested.writeIPC({ compression: "uncompressed" }));

// What Polars reads back: figures per column, as tally shows them.
const back = pl.readIPC(fs.readFileSync(path.join(dir, "polars_zstd.arrow")));
function micros(name) {   // timestamps as BigInt microseconds (nanoseconds floored)
  const unit = name === "ts_ms" ? 1000n : name === "ts_ns" ? -1000n : 1n;
  return back.getColumn(name).cast(pl.Int64).toArray().filter((v) => v !== null).map((v) => {
    const x = BigInt(v);
    if (unit > 0n) return x * unit;
    const q = x / 1000n;
    return x % 1000n !== 0n && x < 0n ? q - 1n : q;
  });
}
function iso(us) {   // tally's text of a timestamp: seconds, and microseconds when any
  let s = us / 1000000n, f = us % 1000000n;
  if (f < 0n) { f += 1000000n; s -= 1n; }
  const t = new Date(Number(s) * 1000).toISOString().slice(0, 19);
  return f === 0n ? t : t + "." + String(f).padStart(6, "0");
}
const lua = (v) => typeof v === "string" ? JSON.stringify(v) : typeof v === "boolean" ? String(v)
  : typeof v === "bigint" ? String(v) : Number.isInteger(v) ? String(v) : v.toPrecision(17);
let out = "-- written by make_polars.js: what Polars reads back from the files\nreturn {\n";
out += `  rows = ${back.height},\n  columns = {\n`;
for (const name of back.columns) {
  const s = back.getColumn(name);
  const count = s.len() - s.nullCount();
  let sum = null, min, max, type;
  if (name.startsWith("ts_")) {
    const v = micros(name).map((x) => BigInt(x)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    type = "timestamp"; min = iso(v[0]); max = iso(v[v.length - 1]);
  } else if (name === "d") {
    const v = s.cast(pl.Int32).toArray().filter((x) => x !== null);
    type = "date";
    min = new Date(Math.min(...v) * 86400000).toISOString().slice(0, 10);
    max = new Date(Math.max(...v) * 86400000).toISOString().slice(0, 10);
  } else if (name === "s" || name === "cat") {
    const v = s.cast(pl.Utf8).toArray().filter((x) => x !== null).sort((a, b) =>
      Buffer.compare(Buffer.from(a), Buffer.from(b)));
    type = "string"; min = v[0]; max = v[v.length - 1];
  } else if (name === "b") {
    const v = s.toArray().filter((x) => x !== null);
    type = "bool"; sum = v.filter((x) => x).length; min = v.includes(false) ? false : true;
    max = v.includes(true);
  } else {
    const v = s.cast(pl.Float64);
    type = name.startsWith("f") || name === "dec" ? "float" : "int";
    sum = type === "int" ? String(s.cast(pl.Int64).toArray().filter((x) => x !== null)
      .reduce((a, x) => a + BigInt(x), 0n)) : v.sum();
    min = v.min(); max = v.max();
    if (type === "int") { min = BigInt(s.cast(pl.Int64).min()); max = BigInt(s.cast(pl.Int64).max()); }
  }
  out += `    ${name} = { type = "${type}", count = ${count}, sum = ${sum === null ? "nil" : lua(sum)}, ` +
         `min = ${lua(min)}, max = ${lua(max)} },\n`;
}
out += "  },\n  order = { " + back.columns.map((c) => JSON.stringify(c)).join(", ") + " },\n}\n";
fs.writeFileSync(path.join(dir, "expected.lua"), out);

// Seeds of the fuzz target fuzz_arrow: the first rows, small enough for the fuzzer.
const seeds = path.join(__dirname, "../../fuzz/corpus/arrow");
if (process.argv[2]) process.exit(0);
fs.mkdirSync(seeds, { recursive: true });
const head = df.head(5);
for (const c of ["uncompressed", "lz4", "zstd"]) {
  fs.writeFileSync(path.join(seeds, `polars_${c}.arrow`), head.writeIPC({ compression: c }));
  fs.writeFileSync(path.join(seeds, `polars_${c}.arrows`), head.writeIPCStream({ compression: c }));
}
fs.writeFileSync(path.join(seeds, "polars_nested.arrow"), nested.writeIPC({ compression: "uncompressed" }));
