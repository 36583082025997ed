-- Lazy scans of Parquet files, s:join with an in-memory table, and
-- s:write_parquet / s:write_arrow: every plan's scan(...):collect() against
-- the same verbs on the table read in memory, on generated files cut into
-- row groups down to one row, over one file, a list, a glob and a folder,
-- on 1 and 3 threads; files written by DuckDB (tests/data/parquet); the
-- row groups skipped by statistics, shown by explain() and never changing
-- a result (nulls, NaN, strings, dates); and the errors.
-- Run from the repository root: tally tests/lua/test_scan_parquet.lua

local tally = require "tally"
local testing = require "tally.testing"

local check = require "tests.lua.scan_check"
local check_error, same = check.check_error, check.same

local dir = check.tempdir()
local function path(name) return dir .. "/" .. name end

local words = { "alpha", "beta", "gamma", "a", "b", "été", "" }

-- A table of n rows: k (int, few values, nulls), g (string, nulls), x
-- (float with NaN and nulls), y (int, ascending, so that row groups have
-- narrow ranges), d (date), ts (timestamp), ok (bool).
local function gen(n, seed, y0)
  math.randomseed(seed)
  local k, g, x, y, d, ts, ok = {}, {}, {}, {}, {}, {}, {}
  for i = 1, n do
    k[i] = math.random(6) == 1 and tally.null or math.random(0, 4)
    g[i] = math.random(7) == 1 and tally.null or words[math.random(#words)]
    local r = math.random(12)
    x[i] = r == 1 and tally.null or r == 2 and 0 / 0 or math.random(-2000, 8000) / 100
    y[i] = (y0 or 0) + i
    d[i] = string.format("2020-%02d-%02d", math.random(1, 12), math.random(1, 28))
    ts[i] = string.format("2021-03-04T%02d:%02d:00", math.random(0, 23), math.random(0, 59))
    ok[i] = math.random(2) == 1
  end
  return tally.from_columns{ { "k", k }, { "g", g }, { "x", x }, { "y", y }, { "d", d },
                             { "ts", ts }, { "ok", ok } }
    :mutate("k = int(k)", "g = string(g)", "x = float(x)", "y = int(y)", "ok = bool(ok)",
            "d = date(d)",
            "ts = timestamp(ts)")
end

local right = tally.from_columns{ { "k", { 0, 1, 1, 3, 7, tally.null } },
                                  { "label", { "zero", "one", "uno", "three", "seven", "none" } } }

-- Each plan as a function of a scan or a table (the verbs are the same).
local plans = {
  { "collect", function(s) return s end },
  { "filter int", function(s) return s:filter("y > 40 and k != 2") end },
  { "filter string", function(s) return s:filter("g == 'a'") end },
  { "filter string range", function(s) return s:filter("g >= 'b' and g < 'f'") end },
  { "filter float", function(s) return s:filter("x < 10") end },
  { "filter float above", function(s) return s:filter("x > 50") end },
  { "filter nan", function(s) return s:filter("x == 0/0") end },
  { "filter date", function(s) return s:filter("d >= '2020-06-01'") end },
  { "filter ts", function(s) return s:filter("ts < '2021-03-04T06:00:00'") end },
  { "filter flipped", function(s) return s:filter("30 >= y") end },
  { "filter ne", function(s) return s:filter("k ~= 1") end },
  { "filter null", function(s) return s:filter("k == null") end },
  { "mutate", function(s) return s:mutate("z = x * 2 + k", "w = upper(g)") end },
  { "select", function(s) return s:select("x", "k") end },
  { "pushdown", function(s) return s:mutate("z = y * 3"):filter("y <= 25"):select("z", "k") end },
  { "group_by", function(s)
      return s:group_by("k"):agg("n = count()", "s = sum(y)", "m = max(x)", "c = count(g)") end },
  { "agg", function(s) return s:agg("n = count()", "lo = min(d)", "hi = max(ts)") end },
  { "head", function(s) return s:head(7) end },
  { "top", function(s) return s:top(5, "-y") end },
  { "distinct", function(s) return s:distinct("k", "g") end },
  { "sort", function(s) return s:sort("g", "-y") end },
  { "join inner", function(s) return s:join(right, { on = "k" }) end },
  { "join left", function(s) return s:join(right, { on = "k", how = "left" }) end },
  { "join semi", function(s) return s:join(right, { on = "k", how = "semi" }) end },
  { "join anti", function(s) return s:join(right, { on = "k", how = "anti" }) end },
  { "join right", function(s) return s:join(right, { on = "k", how = "right" }) end },
  { "join full", function(s) return s:join(right, { on = "k", how = "full" }) end },
  { "join filter", function(s)
      return s:filter("y > 10"):join(right, { on = "k", how = "left" }):filter("label ~= 'one'")
    end },
}

-- The table split into files of `rows` rows each, row groups of `group`.
local function write_parts(t, name, rows, group)
  local paths = {}
  local at = 1
  while at <= #t do
    local p = path(string.format("%s/part-%03d.parquet", name, #paths))
    t:slice(at, math.min(#t, at + rows - 1)):write_parquet(p, { row_group_size = group })
    paths[#paths + 1] = p
    at = at + rows
  end
  return paths
end

-- Every plan over every way of naming the files, on 1 and 3 threads.
local function check_all(t, name, paths)
  local sources = { paths, path(name .. "/*.parquet"), path(name) }
  if #paths == 1 then sources[#sources + 1] = paths[1] end
  for _, threads in ipairs{ 1, 3 } do
    tally.threads(threads)
    for _, src in ipairs(sources) do
      for _, p in ipairs(plans) do
        local want = p[2](t)
        local got = p[2](tally.scan(src)):collect()
        same(got, want, string.format("%s %s (%d threads, %s)", name, p[1], threads,
                                      type(src) == "table" and #src .. " files" or src))
      end
    end
  end
  tally.threads(0)
end

for round, c in ipairs{ { 60, 60, 1 }, { 200, 70, 7 }, { 150, 150, 50 }, { 0, 1, 1 },
                        { 300, 100, 33 } } do
  local n, rows, group = c[1], c[2], c[3]
  local name = "gen" .. round
  assert(os.execute("mkdir -p '" .. path(name) .. "'"))
  local t = gen(n, round)
  local paths = n > 0 and write_parts(t, name, rows, group)
                or { path(name .. "/empty.parquet") }
  if n == 0 then t:write_parquet(paths[1]) end
  -- what the files read back as: the oracle's input (strings may come back
  -- as dictionary columns; the values are the same)
  local parts = {}
  for i, p in ipairs(paths) do parts[i] = tally.read_parquet(p) end
  local whole = #parts == 1 and parts[1] or parts[1]:concat(table.unpack(parts, 2))
  same(whole, t, name .. " round trip")
  check_all(whole, name, paths)
end

-- ---------------------------------------------------------------------------
-- Row groups skipped by statistics: shown by explain, results unchanged.
do
  local t = gen(400, 99)
  local p = path("sorted.parquet")
  t:write_parquet(p, { row_group_size = 50 })     -- y ascending: 8 groups of 50
  local s = tally.scan(p):filter("y > 330")
  local e = s:explain()
  assert(e:find("row groups: 6 of 8 skipped by their min/max statistics", 1, true), e)
  assert(e:find("filters pushed into the scan:\n    y > 330", 1, true), e)
  same(s:collect(), t:filter("y > 330"), "skipped groups")
  e = tally.scan(p):filter("y >= 1 and y <= 50"):explain()
  assert(e:find("row groups: 7 of 8 skipped", 1, true), e)
  e = tally.scan(p):filter("y == 1000"):explain()
  assert(e:find("row groups: 8 of 8 skipped", 1, true), e)
  assert(#tally.scan(p):filter("y == 1000"):collect() == 0)
  -- a float filter that NaN passes (NaN is greatest) skips nothing on max
  e = tally.scan(p):filter("x > 1000"):explain()
  assert(e:find("row groups: 0 of 8 skipped", 1, true), e)
  same(tally.scan(p):filter("x > 1000"):collect(), t:filter("x > 1000"), "NaN above all")
  -- a filter that no statistic decides
  e = tally.scan(p):filter("y % 2 == 0"):explain()
  assert(e:find("row groups: all read", 1, true), e)
  -- a column of nulls only: every comparison is null
  local nulls = tally.from_columns{ { "v", { tally.null, tally.null, tally.null } },
                                    { "w", { 1, 2, 3 } } }:mutate("v = int(v)")
  local pn = path("nulls.parquet")
  nulls:write_parquet(pn, { row_group_size = 1 })
  e = tally.scan(pn):filter("v < 5"):explain()
  assert(e:find("row groups: 3 of 3 skipped", 1, true), e)
  assert(#tally.scan(pn):filter("v < 5"):collect() == 0)
  same(tally.scan(pn):filter("v == null or w > 1"):collect(),
       tally.read_parquet(pn):filter("v == null or w > 1"), "null or")
  -- the columns read
  e = tally.scan(p):filter("k == 1"):select("g"):explain()
  assert(e:find("columns read: 2 of 7: k, g", 1, true), e)
end

-- ---------------------------------------------------------------------------
-- Files written by DuckDB (tests/data/parquet/make.js): the scan reads
-- what read_parquet reads, filters and statistics included.
do
  local data = "tests/data/parquet/"
  local g = tally.read_parquet(data .. "groups.parquet")
  for _, threads in ipairs{ 1, 3 } do
    tally.threads(threads)
    same(tally.scan(data .. "groups.parquet"):collect(), g, "duckdb groups")
    same(tally.scan(data .. "groups.parquet"):filter("id >= 4500 and g ~= 'g1'"):collect(),
         g:filter("id >= 4500 and g ~= 'g1'"), "duckdb groups filter")
    same(tally.scan(data .. "groups.parquet"):group_by("g"):agg("n = count()", "s = sum(k)")
           :collect(), g:group_by("g"):agg("n = count()", "s = sum(k)"), "duckdb groups agg")
    for _, f in ipairs{ "types_zstd.parquet", "types_snappy.parquet", "types_v2.parquet" } do
      local t = tally.read_parquet(data .. f)
      same(tally.scan(data .. f):collect(), t, f)
      for _, cond in ipairs{ "i32 > 0", "s == 'text 16'", "color == 'été'", "f < -10",
                             "d > 1e12", "dt < '1975-01-01'", "i64 <= 0", "u32 >= 100000000" } do
        same(tally.scan(data .. f):filter(cond):collect(), t:filter(cond), f .. " " .. cond)
      end
    end
  end
  tally.threads(0)
  local e = tally.scan(data .. "groups.parquet"):filter("id < 100"):explain()
  assert(e:find("row groups: %d+ of %d+ skipped"), e)
end

-- ---------------------------------------------------------------------------
-- Several files: int meets float, names and types must agree.
do
  local a = tally.from_columns{ { "v", { 1, 2, 3 } }, { "s", { "x", "y", "z" } } }
  local b = tally.from_columns{ { "v", { 1.5, 2.5 } }, { "s", { "u", "w" } } }
  local c = tally.from_columns{ { "v", { "no" } }, { "s", { "q" } } }
  local d = tally.from_columns{ { "w", { 1 } }, { "s", { "q" } } }
  a:write_parquet(path("a.parquet"))
  b:write_parquet(path("b.parquet"))
  c:write_parquet(path("c.parquet"))
  d:write_parquet(path("d.parquet"))
  local got = tally.scan{ path("a.parquet"), path("b.parquet") }:collect()
  same(got, tally.from_columns{ { "v", { 1.0, 2.0, 3.0, 1.5, 2.5 } },
                                { "s", { "x", "y", "z", "u", "w" } } }, "int widens to float")
  assert(tally.scan{ path("a.parquet"), path("b.parquet") }:filter("v > 1.75"):collect().v[1] == 2.0)
  check_error("scan: " .. path("c.parquet") .. ": column 'v' is string, but int in the files before it",
              tally.scan, { path("a.parquet"), path("c.parquet") })
  check_error("scan: " .. path("d.parquet") .. ": column 1 is 'w', but 'v' in " .. path("a.parquet"),
              tally.scan, { path("a.parquet"), path("d.parquet") })
  local csv = path("e.csv")
  a:write_csv(csv)
  check_error("scan: " .. csv .. " is CSV, but " .. path("a.parquet") .. " is Parquet",
              tally.scan, { path("a.parquet"), csv })
  check_error("the files must be of one format", function() return tally.scan{ dir } end)
  assert(os.execute("mkdir -p '" .. path("empty") .. "'"))
  check_error("scan: the folder '" .. path("empty") .. "' holds no files", tally.scan,
              path("empty"))
end

-- ---------------------------------------------------------------------------
-- A damaged file: the error names the file, the row group and the column.
do
  local t = gen(300, 7)
  local p = path("damaged.parquet")
  t:select("x"):write_parquet(p, { row_group_size = 100, compression = "zstd" })
  local f = assert(io.open(p, "rb"))
  local bytes = f:read("a")
  f:close()
  -- the middle of the file is the second row group's compressed page:
  -- 40 bytes of 0xff there break its zstd frame
  local size = #bytes
  local cut = math.floor(size * 0.5)
  local broken = bytes:sub(1, cut) .. string.rep("\255", 40) .. bytes:sub(cut + 41)
  f = assert(io.open(p, "wb"))
  f:write(broken)
  f:close()
  local ok, err = pcall(function() return tally.scan(p):collect() end)
  local ok2, err2 = pcall(tally.read_parquet, p)
  assert(not ok2, "the damage must be seen by read_parquet too")
  if not ok then
    err, err2 = tostring(err):match("read_parquet: .*"), tostring(err2):match("read_parquet: .*")
    assert(err:find(p .. ": row group 1, column 'x', page 0: ", 1, true), err)
    assert(err == err2, err .. " vs " .. err2)
  else
    error("damaged file read without error")
  end
  check_error("scan: cannot read '" .. path("a.parquet") .. ".missing': No such file",
              tally.scan, path("a.parquet") .. ".missing")
  f = assert(io.open(path("short.parquet"), "wb"))
  f:write("PAR1PAR1")
  f:close()
  check_error("read_parquet: " .. path("short.parquet") .. ": not a Parquet file (8 bytes)",
              tally.scan, path("short.parquet"))
end

-- ---------------------------------------------------------------------------
-- Writers: s:write_parquet and s:write_arrow give the files the in-memory
-- writers give the collected table's values; nothing is left on error.
do
  local t = gen(500, 3)
  local src = path("w.parquet")
  t:write_parquet(src, { row_group_size = 37 })
  local whole = tally.read_parquet(src)
  for _, threads in ipairs{ 1, 3 } do
    tally.threads(threads)
    for _, p in ipairs(plans) do
      local want = p[2](whole)
      local out = path("out.parquet")
      p[2](tally.scan(src)):write_parquet(out, { row_group_size = 64 })
      same(tally.read_parquet(out), want, "write_parquet " .. p[1])
      local arrow = path("out.arrow")
      p[2](tally.scan(src)):write_arrow(arrow, { batch_rows = 64 })
      same(tally.read_arrow(arrow), want, "write_arrow " .. p[1])
    end
    -- from a table source in batches of one row
    local out = path("one.parquet")
    testing.set{ batch_rows = 1 }
    tally.scan(whole):filter("k == 1"):write_parquet(out)
    same(tally.read_parquet(out), whole:filter("k == 1"), "batches of one row")
    tally.scan(whole):write_arrow(path("one.arrow"))
    testing.set{ batch_rows = 0 }
    same(tally.read_arrow(path("one.arrow")), whole, "arrow batches of one row")
  end
  tally.threads(0)
  -- an error half-way (a bad cast at a later row) leaves no file behind
  local bad = tally.from_columns{ { "s", { "1", "2", "x" } } }
  for _, w in ipairs{ "write_parquet", "write_arrow", "write_csv" } do
    local out = path("bad." .. w)
    check_error("row", testing.with, { batch_rows = 1 }, function()
      local s = tally.scan(bad):mutate("v = int(s)")
      return s[w](s, out)
    end)
    assert(io.open(out, "rb") == nil, w .. " left a file")
    assert(io.open(out .. ".tmp", "rb") == nil, w .. " left its temporary file")
  end
  check_error("write_parquet: unknown option 'row_groups'", function()
    return tally.scan(src):write_parquet(path("x.parquet"), { row_groups = 3 })
  end)
  check_error("write_parquet: unknown compression 'lzma'", function()
    return tally.scan(src):write_parquet(path("x.parquet"), { compression = "lzma" })
  end)
end

-- s:join checks its keys when it is made, with the in-memory join's messages.
do
  local s = tally.scan(path("w.parquet"))
  check_error("join: unknown column 'kk'", function() return s:join(right, { on = "kk" }) end)
  check_error("join: 'how' must be inner", function()
    return s:join(right, { on = "k", how = "outer" })
  end)
  local e = s:join(right, { on = "k", how = "full" }):explain()
  assert(e:find("join k (full, with a table of 6 rows)  [materializes", 1, true), e)
  e = s:join(right, { on = "k" }):explain()
  assert(e:find("join k (inner, with a table of 6 rows)  [per batch]", 1, true), e)
end

-- Plans that read no column of the files (a count; a grouping by a column a
-- mutate made): the rows still count, from the row groups' footers, at every
-- batch size (a read of no column gave batches of no rows); over a table too.
do
  local t = gen(300, 41)
  local p = path("count.parquet")
  t:write_parquet(p, { row_group_size = 64 })
  for _, knobs in ipairs({ {}, { batch_rows = 1 }, { batch_rows = 10 } }) do
    testing.with(knobs, function()
      assert(tally.scan(p):agg("n = count()"):collect():col("n")[1] == 300)
      local g = tally.scan(p):mutate("k = 7"):group_by("k"):agg("n = count()"):collect()
      assert(#g == 1 and g:col("n")[1] == 300, "grouping by a made column")
      same(tally.scan(p):mutate("z = 1"):select("z"):collect(), t:mutate("z = 1"):select("z"),
           "a made column alone")
      -- and so over a table
      assert(tally.scan(t):agg("n = count()"):collect():col("n")[1] == 300)
      same(tally.scan(t):mutate("z = 1"):select("z"):collect(), t:mutate("z = 1"):select("z"),
           "a made column alone, over a table")
    end)
  end
end

os.execute("rm -rf '" .. dir .. "'")
print("test_scan_parquet: ok")
