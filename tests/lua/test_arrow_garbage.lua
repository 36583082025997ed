-- Values under null rows are not looked at. An Arrow file whose null rows hold
-- garbage (extreme ints, NaN and infinities, dates and timestamps out of every
-- range, set bool bits) is written by tally, patched by hand, and read with
-- read_arrow, which maps it as it is (the garbage stays, as the saved copy
-- shows). Every aggregate, key, sort, distinct, join, filter, expression,
-- window function, display and writer then gives what the same data with
-- zeros under its nulls gives, or the same error.

local null = tally.null
local n = 2500

local function lcg(seed)
  local s = seed
  return function(m)
    s = (s * 1103515245 + 12345) % 2147483648
    return s % m
  end
end
local rnd = lcg(219)

-- the data: k (no nulls), g, x, f, b, dn, tn with nulls in their own rows
local cols = { k = {}, g = {}, x = {}, f = {}, b = {}, dn = {}, tn = {} }
for i = 1, n do
  cols.k[i] = i
  cols.g[i] = i % 11 == 0 and null or rnd(7)
  cols.x[i] = i % 3 == 0 and null or rnd(2001) - 1000
  cols.f[i] = i % 5 == 1 and null or (rnd(100000) - 50000) / 64
  cols.b[i] = i % 4 == 2 and null or rnd(2) == 1
  cols.dn[i] = i % 7 == 3 and null or rnd(40000) - 5000
  cols.tn[i] = i % 6 == 4 and null or rnd(40000) - 5000
end
local base = tally.from_columns{ { "k", cols.k }, { "g", cols.g }, { "x", cols.x },
                                  { "f", cols.f }, { "b", cols.b }, { "dn", cols.dn },
                                  { "tn", cols.tn } }
  :mutate("d = date('1970-01-01') + dn", "ts = timestamp(date('1970-01-01') + tn)")
  :drop("dn", "tn")

local clean_path, dirty_path = os.tmpname(), os.tmpname()
base:write_arrow(clean_path)
local f = assert(io.open(clean_path, "rb"))
local bytes = f:read("a")
f:close()

-- the values buffer of a column as tally writes it (zeros under nulls), and
-- the same with garbage there
local garbage = {
  i64 = { math.maxinteger, math.mininteger, -1, 0x5eadbeefcafe1234, math.mininteger + 1 },
  f64 = { string.unpack("<d", string.pack("<i8", 0x7ff8000000000001)), 0 / 0, math.huge,
          -math.huge, 1.7e308, -1.7e308, string.unpack("<d", string.pack("<i8", -2)) },
  i32 = { 2147483647, -2147483648, -1, 0x3ead0be1 },
}
local function buffers(values, fmt, pool)
  local clean, dirty = {}, {}
  for i = 1, n do
    local v = values[i]
    if v == null then
      clean[i] = string.pack(fmt, 0)
      dirty[i] = string.pack(fmt, pool[i % #pool + 1])
    else
      clean[i] = string.pack(fmt, v)
      dirty[i] = clean[i]
    end
  end
  return table.concat(clean), table.concat(dirty)
end
local function bits(values)
  local clean, dirty = {}, {}
  for w = 0, (n - 1) // 8 do
    local c, d = 0, 0
    for k = 0, 7 do
      local v = values[w * 8 + k + 1]
      if v == true then c, d = c | (1 << k), d | (1 << k) end
      if v == null then d = d | (1 << k) end
    end
    clean[#clean + 1], dirty[#dirty + 1] = string.char(c), string.char(d)
  end
  return table.concat(clean), table.concat(dirty)
end
local function days(values, scale)
  local out = {}
  for i = 1, n do out[i] = values[i] == null and null or values[i] * scale end
  return out
end

local patched = bytes
local function patch(what, clean, dirty)
  local at = string.find(patched, clean, 1, true)
  assert(at, what .. ": values buffer not found in the file")
  assert(not string.find(patched, clean, at + 1, true), what .. ": found twice")
  patched = patched:sub(1, at - 1) .. dirty .. patched:sub(at + #clean)
  return dirty
end
local dirty_bufs = {
  patch("x", buffers(cols.x, "<i8", garbage.i64)),
  patch("f", buffers(cols.f, "<d", garbage.f64)),
  patch("b", bits(cols.b)),
  patch("d", buffers(days(cols.dn, 1), "<i4", garbage.i32)),
  patch("ts", buffers(days(cols.tn, 86400000000), "<i8", garbage.i64)),
}
f = assert(io.open(dirty_path, "wb"))
f:write(patched)
f:close()

local clean = tally.read_arrow(clean_path)
local dirty = tally.read_arrow(dirty_path)

-- the garbage is in the columns read (pointed to, not copied and zeroed):
-- a saved table writes its buffers as they are
local saved = os.tmpname()
dirty:save(saved)
f = assert(io.open(saved, "rb"))
local saved_bytes = f:read("a")
f:close()
for j, buf in ipairs(dirty_bufs) do
  assert(string.find(saved_bytes, buf, 1, true), "garbage buffer " .. j .. " not kept")
end

-- equality of results: NaN equals NaN, floats bit for bit otherwise
local function same_value(a, b)
  if a ~= a and b ~= b then return true end
  if math.type(a) == "float" and math.type(b) == "float" then
    return string.pack("<d", a) == string.pack("<d", b)
  end
  return a == b
end
local function same_table(a, b, what)
  assert(#a == #b, what .. ": " .. #a .. " rows vs " .. #b)
  local an, bn = a:names(), b:names()
  assert(#an == #bn, what .. ": column count")
  for j, name in ipairs(an) do
    assert(bn[j] == name, what .. ": column " .. j)
    local x, y = a:col(name), b:col(name)
    assert(x:type() == y:type(), what .. ": " .. name .. " type")
    assert(x:nulls() == y:nulls(), what .. ": " .. name .. " nulls " .. x:nulls() .. " vs " .. y:nulls())
    for i = 1, #x do
      assert(same_value(x[i], y[i]), string.format("%s: %s row %d: %s vs %s", what, name, i,
                                                    tostring(x[i]), tostring(y[i])))
    end
  end
end
local function same_result(what, fn)
  local ok1, r1 = pcall(fn, clean)
  local ok2, r2 = pcall(fn, dirty)
  assert(ok1 == ok2, what .. ": " .. tostring(r1) .. " vs " .. tostring(r2))
  if not ok1 then
    assert(r1 == r2, what .. ": errors differ: " .. tostring(r1) .. " vs " .. tostring(r2))
  elseif type(r1) == "userdata" and r1.names then
    same_table(r1, r2, what)
  else
    assert(same_value(r1, r2), what .. ": " .. tostring(r1) .. " vs " .. tostring(r2))
  end
end

same_table(clean, dirty, "read")
same_table(base, dirty, "read vs written")

-- column methods and every aggregate
for _, name in ipairs{ "x", "f", "b", "d", "ts" } do
  for _, m in ipairs{ "sum", "min", "max", "mean", "count", "nulls", "median", "stddev", "var",
                      "count_distinct" } do
    same_result(name .. ":" .. m .. "()", function(t) local c = t:col(name); return c[m](c) end)
  end
  same_result(name .. ":quantile()", function(t) return t:col(name):quantile(0.7) end)
  same_result(name .. ":unique()", function(t)
    return tally.from_columns{ { "u", t:col(name):unique() } } end)
  same_result(name .. ":value_counts()", function(t) return t:col(name):value_counts() end)
  same_result(name .. ":totable()", function(t)
    return tally.from_columns{ { "u", t:col(name):totable() } } end)
  same_result(name .. ":hist()", function(t) return t:col(name):hist{ print = false } end)
  for _, m in ipairs{ "eq", "ne", "lt", "le", "gt", "ge" } do
    same_result(name .. ":" .. m .. "()", function(t)
      local c = t:col(name)
      local v = c[#c // 2] ~= nil and c[#c // 2] or c[#c // 2 + 1]
      return tally.from_columns{ { "m", c[m](c, v):totable() } }
    end)
  end
  same_result(name .. ":is_null()", function(t)
    return tally.from_columns{ { "m", t:col(name):is_null():totable() } } end)
end
same_result("x + f", function(t) return tally.from_columns{ { "v", (t.x + t.f):totable() } } end)
same_result("x * 2", function(t) return tally.from_columns{ { "v", (t.x * 2):totable() } } end)
same_result("isin", function(t) return tally.from_columns{ { "v", t.x:isin{ 0, 1, 2 }:totable() } } end)
local aggs = {
  "count(x)", "sum(x)", "mean(x)", "min(x)", "max(x)", "median(x)", "quantile(x, 0.3)",
  "stddev(x)", "var(x)", "count_distinct(x)", "first(x)", "last(x)", "mode(x)",
  "arg_min(k, x)", "arg_max(k, x)", "product(x)",
  "count(f)", "sum(f)", "mean(f)", "min(f)", "max(f)", "median(f)", "quantile(f, 0.9)",
  "stddev(f)", "var(f)", "count_distinct(f)", "first(f)", "last(f)", "mode(f)",
  "arg_min(k, f)", "arg_max(x, f)", "product(f)", "corr(x, f)", "covar(x, f)",
  "regr_slope(f, x)", "regr_intercept(f, x)",
  "count(b)", "bool_and(b)", "bool_or(b)", "count_if(b)", "sum(b)", "mode(b)", "first(b)",
  "count(d)", "min(d)", "max(d)", "count_distinct(d)", "median(d)", "first(d)", "last(d)",
  "mode(d)", "arg_max(k, d)",
  "count(ts)", "min(ts)", "max(ts)", "count_distinct(ts)", "first(ts)", "last(ts)",
  "mode(ts)", "arg_min(k, ts)",
}
for _, a in ipairs(aggs) do
  same_result("agg " .. a, function(t) return t:agg("v = " .. a) end)
  same_result("group_by(g) agg " .. a, function(t) return t:group_by("g"):agg("v = " .. a):sort("g") end)
end

-- every column as a key: group_by, sort, top, distinct, join
for _, key in ipairs{ "x", "f", "b", "d", "ts" } do
  same_result("group_by " .. key, function(t)
    return t:group_by(key):agg("n = count()", "s = sum(k)", "m = min(k)"):sort(key) end)
  same_result("group_by g, " .. key, function(t)
    return t:group_by("g", key):agg("n = count()", "s = sum(k)"):sort("g", key) end)
  same_result("sort " .. key, function(t) return t:sort(key, "k") end)
  same_result("sort -" .. key, function(t) return t:sort("-" .. key, "k") end)
  same_result("top " .. key, function(t) return t:top(25, key, "k") end)
  same_result("top -" .. key, function(t) return t:top(25, "-" .. key, "-k") end)
  same_result("distinct " .. key, function(t) return t:distinct(key):sort(key) end)
  same_result("distinct g " .. key, function(t) return t:distinct("g", key):sort("g", key) end)
  for _, how in ipairs{ "inner", "left", "full", "semi", "anti" } do
    same_result("join " .. how .. " on " .. key, function(t)
      local l = t:head(300):select("k", key)
      local r = t:slice(200, 700):select("g", key)
      local j = l:join(r, { on = key, how = how })
      local order = { key, "k" }
      if how ~= "semi" and how ~= "anti" then order[3] = "g" end
      return j:sort(table.unpack(order))
    end)
  end
end
same_result("sort all", function(t) return t:sort("b", "-d", "f", "x", "ts", "k") end)
same_result("distinct all", function(t) return t:distinct("x", "f", "b", "d", "ts"):sort("x", "f", "b", "d", "ts") end)

-- filters, expressions and casts over the garbage rows
local exprs = {
  "x > 10", "x == 0", "f < 0", "f == 0", "is_null(x)", "b", "not b", "d >= date('1990-01-01')",
  "ts < timestamp('1980-06-01')", "x in (1, 2, 0, 3)", "f > x", "d == date('1970-01-01')",
  "is_nan(f)", "b == false", "ts == timestamp('1970-01-01')",
}
for _, e in ipairs(exprs) do
  same_result("filter " .. e, function(t) return t:filter(e) end)
  same_result("mutate " .. e, function(t) return t:mutate("y = " .. e):select("y") end)
end
same_result("filter mask", function(t) return t:filter(t:col("b")) end)
local values = {
  "x + 1", "x - 7", "x * 1000000007", "x * x * x * x * x", "abs(x)", "-x", "x // 3", "x % 5",
  "x / 4", "f * 2", "f + x", "sqrt(f)", "ln(f)", "exp(f)", "floor(f)", "ceil(f)", "round(f, 2)",
  "int(f)", "int(x)", "float(x)", "string(x)", "string(f)", "string(d)", "string(ts)",
  "string(b)", "bool(x)", "bool(f)", "int(b)", "sign(f)", "sign(x)", "greatest(x, k)",
  "least(f, k)", "coalesce(x, -1)", "coalesce(f, 0.5)", "if(b, x, k)", "nullif(x, 3)",
  "year(d)", "month(d)", "day(d)", "weekday(d)", "yearday(d)", "quarter(d)", "week(d)",
  "year(ts)", "hour(ts)", "minute(ts)", "second(ts)", "date_trunc('month', d)",
  "date_trunc('week', ts)", "date_add(d, 1, 'month')", "date_add(ts, 3, 'day')",
  "date_diff('day', d, date('2000-01-01'))", "date_sub('month', ts, timestamp('2000-01-01'))",
  "d + 1", "d - 1", "d - date('1970-01-01')", "ts - timestamp('1970-01-01')",
  "ts - d", "epoch(ts)", "epoch(d)", "strftime(d, '%Y-%m')", "strftime(ts, '%H:%M')",
  "date(ts)", "timestamp(d)", "try_cast(f, 'int')", "try_cast(x, 'date')", "x ..  'a'",
  "concat(string(x), 'z')", "make_date(2000, 1 + abs(x) % 12, 1)", "x == x", "f == f",
}
for _, e in ipairs(values) do
  same_result("mutate " .. e, function(t) return t:mutate("y = " .. e):select("y") end)
  same_result("agg count " .. e, function(t) return t:agg("c = count(" .. e .. ")") end)
end

-- window functions
local windows = {
  "cumsum(x)", "cumsum(f)", "cummax(x)", "cummin(f)", "cummax(d)", "cummin(ts)", "cumprod(x)",
  "cumprod(f)", "cumcount(x)", "lag(x)", "lead(f)", "lag(d, 2)", "lead(ts, 3)", "lag(b)",
  "rolling_sum(x, 3)", "rolling_mean(f, 4)", "rolling_min(x, 5)", "rolling_max(f, 5)",
  "rolling_std(f, 3)", "first_value(x)", "last_value(f)",
}
for _, w in ipairs(windows) do
  same_result("window " .. w, function(t)
    return t:mutate("y = " .. w, { order_by = "k" }):select("y") end)
  same_result("window by g " .. w, function(t)
    return t:mutate("y = " .. w, { order_by = "k", partition_by = "g" }):select("y") end)
end
for _, key in ipairs{ "x", "f", "d", "ts", "b" } do
  same_result("rank by " .. key, function(t)
    return t:mutate("r = rank()", "dr = dense_rank()", "p = percent_rank()", "c = cume_dist()",
                    { order_by = key }):select("r", "dr", "p", "c") end)
end

-- describe, display and the rows as Lua values
same_result("describe", function(t) return t:describe() end)
same_result("format", function(t) return t:format{ all = true } end)
same_result("markdown", function(t) return t:head(300):to_markdown() end)
same_result("bar", function(t) return t:head(20):bar("k", "f", { print = false }) end)
same_result("totable", function(t)
  local rows, out = t:totable(), {}
  for i, r in ipairs(rows) do
    out[i] = string.format("%s|%s|%s|%s|%s", tostring(r.x), tostring(r.f), tostring(r.b),
                           tostring(r.d), tostring(r.ts))
  end
  return table.concat(out, "\n")
end)
same_result("concat", function(t) return t:concat(t:head(100)) end)
same_result("pivot_longer", function(t)
  return t:select("k", "x", "g"):pivot_longer{ cols = { "x", "g" } } end)

same_result("pivot_wider", function(t)
  return t:head(400):pivot_wider{ names_from = "g", values_from = "x", id_cols = { "k" } }:sort("k") end)
same_result("pivot_wider f", function(t)
  return t:head(400):pivot_wider{ names_from = "b", values_from = "f", id_cols = { "k" },
                                  fill = 0 }:sort("k") end)
same_result("filter function", function(t)
  return t:filter(function(r) return r.x ~= nil and r.x > 0 or r.f ~= nil and r.f ~= r.f end) end)

-- charts and reports
same_result("plot scatter", function(t)
  return t:plot{ x = "k", y = "f", kind = "scatter", print = false } end)
same_result("plot line by b", function(t)
  return t:plot{ x = "d", y = "x", by = "b", print = false } end)
same_result("plot hist", function(t) return t:plot{ x = "f", kind = "hist", print = false } end)
same_result("plot box", function(t) return t:plot{ x = "g", y = "x", kind = "box", print = false } end)

-- lazy scans over the table: batches of 100 rows on 1 and 2 threads
local testing = require "tally.testing"
local scans = {
  { "filter", function(s) return s:filter("x > 0 or f < 0"):select("k", "x", "f") end },
  { "mutate", function(s) return s:mutate("y = x * 3 + 1", "z = f / 2", "w = year(d)") end },
  { "agg", function(s) return s:agg("a = sum(x)", "b = max(f)", "c = min(ts)", "e = bool_or(b)",
                                    "m = mean(f)", "v = var(x)", "n = count(d)") end },
  { "group", function(s) return s:group_by("g", "b"):agg("a = sum(x)", "m = min(f)",
                                                        "c = count_distinct(d)"):sort("g", "b") end },
  { "group by x", function(s) return s:group_by("x"):agg("n = count()"):sort("x") end },
  { "top", function(s) return s:top(30, "-f", "k") end },
  { "distinct", function(s) return s:distinct("x", "b"):sort("x", "b") end },
  { "sort", function(s) return s:sort("ts", "f", "k") end },
  { "join", function(s)
      return s:join(tally.from_columns{ { "x", { 0, 1, 2, 3, null } }, { "y", { 5, 6, 7, 8, 9 } } },
                    { on = "x", how = "left" }):sort("k") end },
}
for _, threads in ipairs{ 1, 2 } do
  tally.threads(threads)
  for _, p in ipairs(scans) do
    same_result("scan " .. p[1] .. " on " .. threads, function(t)
      return testing.with({ batch_rows = 100 }, function() return p[2](tally.scan(t)):collect() end)
    end)
  end
end

-- writers: the files are the same and read back the same
local out = os.tmpname()
local function file_text(path)
  local h = assert(io.open(path, "rb"))
  local s = h:read("a")
  h:close()
  return s
end
for _, w in ipairs{ "write_csv", "write_json", "write_ndjson", "write_parquet" } do
  same_result(w, function(t) t[w](t, out); return file_text(out) end)
end
same_result("write_html", function(t) t:head(500):write_html(out); return file_text(out) end)
same_result("scan write_parquet", function(t)
  tally.scan(t):filter("k > 3"):write_parquet(out)
  return tally.read_parquet(out)
end)
same_result("scan write_csv", function(t) tally.scan(t):write_csv(out); return file_text(out) end)
same_result("parquet round trip", function(t) t:write_parquet(out); return tally.read_parquet(out) end)
same_result("csv round trip", function(t)
  t:write_csv(out)
  return tally.read_csv(out, { types = { d = "date", ts = "timestamp" } })
end)
for _, codec in ipairs{ "none", "lz4", "zstd" } do
  same_result("arrow round trip " .. codec, function(t)
    t:write_arrow(out, { compression = codec })
    return tally.read_arrow(out)
  end)
end
same_result("save and load", function(t) t:save(out); return tally.load(out) end)
same_result("to_arrow", function(t) return tally.from_arrow(t:to_arrow()) end)

-- the same through the C data interface: garbage under nulls comes in as it is
local again = tally.from_arrow(dirty:to_arrow())
same_table(clean:group_by("g"):agg("s = sum(x)", "m = max(f)"):sort("g"),
           again:group_by("g"):agg("s = sum(x)", "m = max(f)"):sort("g"), "from_arrow")

for _, p in ipairs{ clean_path, dirty_path, saved, out } do os.remove(p) end
print("test_arrow_garbage: ok")
