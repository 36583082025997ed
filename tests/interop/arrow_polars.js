// Part of tests/interop/arrow.sh: Polars reads the files tally wrote from
// polars_none.arrow (DIR, the first argument) and must find the same values,
// with tally's types: ints as Int64, floats and decimals as Float64, strings
// as String, the categorical as Categorical (tally writes its dictionary as
// an Arrow dictionary), Date, timestamps as Datetime(us) (nanoseconds
// floored, the zone dropped), Bool.
const pl = require("nodejs-polars");
const fs = require("fs");
const dir = process.argv[2];
const src = pl.readIPC(fs.readFileSync(`${dir}/polars_none.arrow`));
const want = (name) => name === "cat" ? "Categorical" : name === "s" ? "String"
  : name === "d" ? "Date" : name === "b" ? "Bool" : name.startsWith("ts_") ? "Datetime(us,)"
  : name.startsWith("f") || name === "dec" ? "Float64" : "Int64";
function values(s, name) {   // comparable text of each value
  if (name === "d") return s.cast(pl.Int32).toArray().map(String);
  if (name.startsWith("ts_")) {   // civil time cut to microseconds: a floor, before 1970 too
    return s.cast(pl.Utf8).toArray().map((v) => {
      if (v === null) return "null";
      const m = /^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)(?:\.(\d+))?/.exec(v);
      return m ? m[1] + "." + (m[2] || "").padEnd(9, "0").slice(0, 6) : v;
    });
  }
  if (name === "cat" || name === "s") return s.cast(pl.Utf8).toArray().map(String);
  if (name === "b") return s.toArray().map(String);
  if (want(name) === "Float64") return s.cast(pl.Float64).toArray();
  return s.cast(pl.Int64).toArray().map((v) => v === null ? "null" : String(BigInt(v)));
}
let failures = 0;
const files = ["none", "lz4", "zstd"].flatMap((c) => [`tally_${c}.arrow`, `tally_${c}.arrows`])
  .concat(["tally_batches.arrow"]);
for (const file of files) {
  const bytes = fs.readFileSync(`${dir}/${file}`);
  const back = file.endsWith(".arrows") ? pl.readIPCStream(bytes) : pl.readIPC(bytes);
  if (back.height !== src.height) { console.log(`${file}: ${back.height} rows`); failures++; }
  for (const name of src.columns) {
    const got = String(back.getColumn(name).dtype).replace(/^DataType\((.*)\)$/, "$1");
    if (got !== want(name)) { console.log(`${file}: ${name} is ${got}, not ${want(name)}`); failures++; }
    const a = values(src.getColumn(name), name), b = values(back.getColumn(name), name);
    for (let i = 0; i < a.length; i++) {
      const same = typeof a[i] === "number" && typeof b[i] === "number"
        ? Math.abs(a[i] - b[i]) <= 1e-12 * Math.max(Math.abs(a[i]), Math.abs(b[i])) : a[i] === b[i];
      if (!same) { console.log(`${file}: ${name} row ${i}: ${a[i]} vs ${b[i]}`); failures++; break; }
    }
  }
}
console.log(`Polars read ${files.length} files of tally: ${failures} mismatches`);
process.exit(failures ? 1 : 0);
