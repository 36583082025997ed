-- Writes the files tests/interop/parquet_write.js checks, into the folder
-- given as argument: t_<codec>.parquet (every type, nulls, 3 row groups of
-- 1000 rows) and t.csv; dict.parquet (dictionary columns, from a file DuckDB
-- wrote) and dict.csv; empty.parquet (no rows).
local dir = assert(arg[1], "usage: parquet_write.lua DIR")
local types = { b = "bool", i = "int", f = "float", s = "string", low = "string", d = "date",
                ts = "timestamp" }
local lines = { "b,i,f,s,low,d,ts" }
local specials = { "nan", "inf", "-inf", "-0.0", "0.0", "1e308", "5e-324" }
for r = 1, 3000 do
  local b = r % 7 == 0 and "" or tostring(r % 3 == 0)
  local i = r % 5 == 0 and "" or tostring((r * 1000000007) % 99999999989 - 49999999999)
  if r == 2 then i = "9223372036854775807" elseif r == 3 then i = "-9223372036854775808" end
  local f = r % 11 == 0 and "" or (specials[r % 13] or string.format("%.17g", r * 0.37 - 50))
  local s = r % 13 == 0 and "" or ("text " .. r * r)
  if r == 4 then s = '"é, ""quoted"" \nline"' end
  local low = r % 4 == 0 and "" or ({ "red", "green", "blue", "été" })[r % 4]
  local d = r % 9 == 0 and "" or string.format("%04d-%02d-%02d", 1900 + r % 200, r % 12 + 1, r % 28 + 1)
  local ts = r % 6 == 0 and "" or string.format("%04d-%02d-%02d %02d:%02d:%02d.%06d", 1950 + r % 100,
    r % 12 + 1, r % 28 + 1, r % 24, r % 60, (r * 7) % 60, (r * 7919) % 1000000)
  lines[#lines + 1] = table.concat({ b, i, f, s, low, d, ts }, ",")
end
local t = tally.read_csv_string(table.concat(lines, "\n") .. "\n", { types = types })
t:write_csv(dir .. "/t.csv")
for _, codec in ipairs{ "zstd", "snappy", "gzip", "lz4", "none" } do
  t:write_parquet(dir .. "/t_" .. codec .. ".parquet", { compression = codec, row_group_size = 1000 })
end
t:head(0):write_parquet(dir .. "/empty.parquet")
local dict = tally.read_parquet("tests/data/parquet/types_zstd.parquet"):select("color", "s", "i64")
dict:write_parquet(dir .. "/dict.parquet", { row_group_size = 50 })
dict:write_csv(dir .. "/dict.csv")
