-- The Lua binding: loading, tables, row views, columns, nulls, errors.
-- Run from the repository root: tally tests/lua/test_binding.lua

local tally = require "tally"
local testing = require "tally.testing"

-- f(...) must fail with a message containing `msg` (plain text).
local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

local function tmpname()
  local p = os.tmpname()
  os.remove(p)
  return p .. ".csv"
end

-- module -------------------------------------------------------------------
assert(tally.version == "0.2.0")
assert(type(tally.null) == "userdata")
assert(tostring(tally.null) == "null")
assert(math.type(tally.clock()) == "float")
do
  local a = tally.clock()
  local b = tally.clock()
  assert(b >= a)
end
assert(require("tally") == tally)

-- read_csv: the training table ------------------------------------------------
local t = tally.read_csv("data/jica_training.csv")
assert(#t == 40)
assert(t:ncol() == 4)
do
  local names = t:names()
  assert(#names == 4)
  assert(names[1] == "program" and names[2] == "year" and names[3] == "participants"
         and names[4] == "countries")
  local s = t:schema()
  assert(#s == 4)
  assert(s[1].name == "program" and s[1].type == "string" and s[1].nulls == 0)
  assert(s[2].name == "year" and s[2].type == "int" and s[2].nulls == 0)
  assert(s[3].name == "participants" and s[3].type == "int" and s[3].nulls == 10)
end

local p = t:col("participants")
assert(p:sum() == 446 and math.type(p:sum()) == "integer")
assert(p:count() == 30)
assert(p:nulls() == 10)
assert(#p == 40)
assert(p:type() == "int")
assert(p:name() == "participants")
assert(p:min() == 2 or p:min() <= p:max())
assert(math.abs(p:mean() - 446 / 30) < 1e-12)
assert(t.participants:sum() == 446)                   -- t.name: a column
assert(t:col(3):name() == "participants")
assert(t:col(2):min() == 2016 and t:col(2):max() == 2020)
assert(t.year[1] == 2016)

-- nulls read as nil; c[i] past the end is nil, so ipairs works
assert(p[5] == nil)
assert(p[1] == 11)
assert(p[0] == nil and p[41] == nil and p[-1] == nil)
do
  local n = 0
  for _, v in ipairs(t.year) do n = n + 1; assert(math.type(v) == "integer") end
  assert(n == 40)
  local arr = p:totable()
  assert(#arr == 40)
  assert(arr[5] == tally.null)
  assert(arr[1] == 11)
  local s = 0
  for _, v in ipairs(arr) do if v ~= tally.null then s = s + v end end
  assert(s == 446)
  assert(table.concat(t.year:totable(), ",", 1, 3) == "2016,2017,2018")
  assert(table.concat({table.unpack(t.year, 1, 2)}, ",") == "2016,2017")
end

-- row views
do
  local r = t[1]
  assert(r.program == "Organization Management for Senior Police Officers")
  assert(r.year == 2016 and r[2] == 2016)
  assert(r.participants == 11)
  assert(#r == 4)
  assert(r[5] == nil and r[0] == nil)
  local r5 = t[5]
  assert(r5.participants == nil and r5.countries == nil)
  local tt = r5:totable()
  assert(tt.year == 2020 and tt.participants == nil)
  assert(tostring(t[6]) ==
         '{program = "Community Policing", year = 2016, participants = 9, countries = 8}')
  assert(tostring(r5) == '{program = "Organization Management for Senior Police Officers", '
         .. 'year = 2020, participants = null, countries = null}')
  check_error("row: unknown column 'x'", function() return r.x end)
  check_error("row: unknown column 'yaer' (did you mean 'year'?)", function() return r.yaer end)
  assert(t[40].year == 2020)
end

-- rows()
do
  local n, s, last = 0, 0, 0
  for i, r in t:rows() do
    n = n + 1
    assert(i == last + 1)
    last = i
    s = s + (r.participants or 0)
  end
  assert(n == 40 and s == 446)
end

-- totable
do
  local rows = t:totable()
  assert(#rows == 40)
  assert(rows[1].year == 2016 and rows[1].program == t[1].program)
  assert(rows[5].participants == tally.null)
end

-- out-of-range and unknown
check_error("table: row 41 out of range (40 rows)", function() return t[41] end)
check_error("table: row 0 out of range (40 rows)", function() return t[0] end)
check_error("table: row -1 out of range (40 rows)", function() return t[-1] end)
check_error("col: unknown column 'yaer' (did you mean 'year'?)", t.col, t, "yaer")
check_error("col: unknown column 'zzzzzzzzzz'", t.col, t, "zzzzzzzzzz")
check_error("col: column index 5 out of range (4 columns)", t.col, t, 5)
check_error("col: column index 0 out of range (4 columns)", t.col, t, 0)
check_error("table: unknown column 'yaer' (did you mean 'year'?)", function() return t.yaer end)
check_error("table: cannot index a table with a boolean", function() return t[true] end)
check_error("column: no method 'foo'", function() return p.foo end)

-- head, tail
do
  local h = t:head(3)
  assert(#h == 3 and h:ncol() == 4 and h[3].year == 2018)
  local tl = t:tail(2)
  assert(#tl == 2 and tl[1].year == 2019 and tl[2].year == 2020)
  assert(#t:head() == 10)
  assert(#t:head(100) == 40)
  assert(#t:head(0) == 0)
  assert(#t:tail(0) == 0)
  assert(#t:tail(1000) == 40)
end

-- read_csv: dates -----------------------------------------------------------------
local d = tally.read_csv("data/jdr_dispatches.csv")
assert(#d == 16)
assert(d:col("persons"):sum() == 290)
assert(d:col("date"):type() == "date")
assert(d.date[1] == "1990-06-01")
assert(d[1].date == "1990-06-01")
assert(d.date:min() == "1990-06-01" and d.date:max() == "2018-02-01")
assert(d.country[2] == "Philippines")
assert(tostring(d.persons) == "column 'persons' (int, 16 rows): 6, 11, 11, 9, 15, 45, 19, 7, 20, 15, ...")
assert(tostring(d:head(2).date) == [[column 'date' (date, 2 rows): "1990-06-01", "1990-07-01"]])

-- read_csv options
do
  local s = tally.read_csv("data/jdr_dispatches.csv", { infer = false })
  assert(s.persons:type() == "string" and s.persons[1] == "6")
  local s2 = tally.read_csv("data/jdr_dispatches.csv", { types = { persons = "float" } })
  assert(s2.persons:type() == "float" and s2.persons[1] == 6.0)
  local s3 = tally.read_csv("data/jdr_dispatches.csv", { header = false, infer = false })
  assert(#s3 == 17 and s3[1][1] == "date")
  local s4 = testing.with({ chunk_size = 7 }, tally.read_csv, "data/jdr_dispatches.csv",
                          { sep = ",", null = { "", "NA" }, skip = 0, comment = "#" })
  assert(#s4 == 16 and s4.persons:sum() == 290)
  local s5 = tally.read_csv("data/jdr_dispatches.csv", { null = "Iran" })
  assert(s5.country[1] == nil and s5.country:nulls() == 1)
end

-- read_csv errors
check_error("read_csv: ", tally.read_csv, "data/no_such_file.csv")
check_error("no_such_file.csv", tally.read_csv, "data/no_such_file.csv")
check_error("bad argument #1 to 'tally.read_csv' (string expected, got no value)", tally.read_csv)
check_error("bad argument #2 to 'tally.read_csv' (table expected, got number)",
            tally.read_csv, "data/jdr_dispatches.csv", 5)
check_error("read_csv: option 'sep' must be a one-character string",
            tally.read_csv, "data/jdr_dispatches.csv", { sep = ",," })
check_error("read_csv: option 'header' must be a boolean, got string",
            tally.read_csv, "data/jdr_dispatches.csv", { header = "yes" })
check_error("read_csv: unknown option 'seperator'",
            tally.read_csv, "data/jdr_dispatches.csv", { seperator = "," })
check_error("read_csv: option 'types': unknown type 'integer' for column 'persons'",
            tally.read_csv, "data/jdr_dispatches.csv", { types = { persons = "integer" } })
check_error("read_csv: option 'null' must be a string or a list of strings",
            tally.read_csv, "data/jdr_dispatches.csv", { null = { 1 } })
check_error("read_csv: option 'skip' must be an integer in [0, 2147483647], got -1",
            tally.read_csv, "data/jdr_dispatches.csv", { skip = -1 })
-- the chunk size is a test knob (tally.testing), not an option
check_error("read_csv: unknown option 'chunk_size'",
            tally.read_csv, "data/jdr_dispatches.csv", { chunk_size = 7 })

-- from_columns ----------------------------------------------------------------------
do
  local f = tally.from_columns{
    {"i", {1, 2, nil, 4}},
    {"f", {1.5, 2, tally.null, 4}},
    {"b", {true, false, nil, true}},
    {"s", {"a", "b", "c", tally.null}},
    {"z", {nil, nil, nil, tally.null}},   -- nulls: tally.null marks the length
  }
  assert(#f == 4 and f:ncol() == 5)
  local s = f:schema()
  assert(s[1].type == "int" and s[1].nulls == 1)
  assert(s[2].type == "float" and s[2].nulls == 1)
  assert(s[3].type == "bool" and s[3].nulls == 1)
  assert(s[4].type == "string" and s[4].nulls == 1)
  assert(s[5].type == "string" and s[5].nulls == 4)       -- all null: padded
  assert(f.i[4] == 4 and math.type(f.i[4]) == "integer")
  assert(f.f[2] == 2.0 and math.type(f.f[2]) == "float")
  assert(f.b[1] == true and f.b[2] == false and f.b[3] == nil)
  assert(f.s[3] == "c" and f.s[4] == nil)
  assert(f.i:sum() == 7 and f.f:sum() == 7.5)
  assert(f.b:sum() == 2)
  assert(f.i:mean() == 7 / 3)
  assert(f.i:min() == 1 and f.i:max() == 4)
  assert(f.s:min() == "a" and f.s:max() == "c")
  assert(tostring(f[3]) == '{i = null, f = null, b = null, s = "c", z = null}')
  assert(tostring(f[1]) == '{i = 1, f = 1.5, b = true, s = "a", z = null}')
  assert(tostring(f.f) == "column 'f' (float, 4 rows): 1.5, 2.0, null, 4.0")
  check_error("mean: column 'b'", f.b.mean, f.b)

  -- a Column in place of an array, under another name
  local g = tally.from_columns{ {"year", t.year}, {"n", t.participants} }
  assert(#g == 40 and g.n:sum() == 446 and g.n:name() == "n")
  assert(t.participants:name() == "participants")

  -- the empty column set and the empty table
  assert(#tally.from_columns{} == 0)
  local e = tally.from_columns{ {"x", {}} }
  assert(#e == 0 and e:ncol() == 1 and e.x:type() == "string")
  assert(e.x:min() == nil and e.x:count() == 0)
  check_error("sum: column 'x': ", e.x.sum, e.x)
  local e2 = tally.from_columns{ {"n", {tally.null, 1.5}} }
  assert(e2.n:type() == "float" and e2.n:sum() == 1.5 and e2.n:mean() == 1.5)
  local e3 = tally.from_columns{ {"n", {tally.null}} }
  assert(e3.n:type() == "string" and e3.n:nulls() == 1 and e3.n:max() == nil)
  local e4 = tally.from_columns{ {"n", {tally.null, 2}} }
  assert(e4.n:type() == "int" and e4.n:mean() == 2.0)
  local e5 = tally.from_columns{ {"n", {1, tally.null}} }
  assert(e5.n:sum() == 1 and e5.n:mean() == 1.0 and e5.n[2] == nil)

  -- tostring
  local small = tally.from_columns{ {"year", {2016, 2017}}, {"n", {11, 13}}, {"name", {"ab", "c"}} }
  assert(tostring(small) == table.concat({
    "year   n  name",
    "----  --  ----",
    "2016  11  ab",
    "2017  13  c",
    "[2 rows x 3 columns: year int, n int, name string]"}, "\n"))
  assert(tostring(small[2]) == '{year = 2017, n = 13, name = "c"}')
end

-- from_columns errors
check_error("from_columns: column 'x' row 3: expected a number, got string",
            tally.from_columns, { {"x", {1, 2, "three"}} })
check_error("from_columns: column 'y' row 2: expected a boolean, got number",
            tally.from_columns, { {"y", {true, 1}} })
check_error("from_columns: column 'y' row 1: unsupported value (table)",
            tally.from_columns, { {"y", {{}}} })
check_error("from_columns: entry 2 must be {name, values}",
            tally.from_columns, { {"a", {1}}, {1, {1}} })
check_error("from_columns: column 'a': expected an array or a column, got number",
            tally.from_columns, { {"a", 5} })
check_error("from_columns: column 'a' must be an array, not a table with key 'x'",
            tally.from_columns, { {"a", {x = 1}} })
check_error("from_columns: columns of different lengths: 'a' has 41 rows, 'b' has 40",
            tally.from_columns, { {"a", {[41] = 1, table.unpack(t.year)}}, {"b", t.year} })
-- arrays of different lengths are an error naming them, never padded with nulls
check_error("from_columns: columns of different lengths: 'x' has 3 rows, 'y' has 1",
            tally.from_columns, { {"x", {1, 2, 3}}, {"y", {1}} })
check_error("from_columns: columns of different lengths: 'x' has 1 row, 'z' has 2",
            tally.from_columns, { {"x", {1}}, {"y", {2}}, {"z", {1, 2}} })
check_error("bad argument #1 to 'tally.from_columns' (table expected, got string)",
            tally.from_columns, "x")
check_error("from_columns: ", tally.from_columns, { {"a", {1}}, {"a", {2}} })

-- column statistics: overflow names the column
do
  local big = tally.from_columns{ {"x", {math.maxinteger, 1}} }
  check_error("sum: column 'x': integer overflow", big.x.sum, big.x)
end

-- wrong argument types: each message names the function ----------------------------
check_error("bad argument #1 to 'ncol' (tally.Table expected, got number)",
            function() return t.ncol(5) end)
check_error("bad argument #1 to 'names' (tally.Table expected, got tally.Column)",
            function() return t.names(p) end)
check_error("bad argument #1 to 'schema' (tally.Table expected, got table)",
            function() return t.schema({}) end)
check_error("bad argument #1 to 'col' (string or integer expected, got table)",
            function() return t:col({}) end)
check_error("bad argument #1 to 'col' (number has no integer representation)",
            function() return t:col(1.5) end)
check_error("bad argument #1 to 'rows' (tally.Table expected, got nil)",
            function() return t.rows(nil) end)
check_error("bad argument #1 to 'totable' (tally.Table expected, got string)",
            function() return t.totable("t") end)
check_error("bad argument #1 to 'write_csv' (string expected, got no value)",
            function() return t:write_csv() end)
check_error("show: the number of rows must be an integer in [1, 9223372036854775807], got 0",
            function() return t:show(0) end)
check_error("bad argument #1 to 'show' (number or table expected, got string)",
            function() return t:show("all") end)
check_error("head: the number of rows must be an integer in [0, 9223372036854775807], got -1",
            function() return t:head(-1) end)
check_error("tail: the number of rows must be an integer in [0, 9223372036854775807], got string",
            function() return t:tail("x") end)
check_error("bad argument #1 to 'sum' (tally.Column expected, got tally.Table)",
            function() return p.sum(t) end)
check_error("bad argument #1 to 'mean' (tally.Column expected, got number)",
            function() return p.mean(1) end)
check_error("bad argument #1 to 'min' (tally.Column expected, got nil)",
            function() return p.min(nil) end)
check_error("bad argument #1 to 'max' (tally.Column expected, got string)",
            function() return p.max("x") end)
check_error("bad argument #1 to 'count' (tally.Column expected, got table)",
            function() return p.count({}) end)
check_error("bad argument #1 to 'type' (tally.Column expected",
            function() return p.type(t) end)
check_error("bad argument #1 to 'name' (tally.Column expected",
            function() return p.name(t) end)
check_error("bad argument #1 to 'nulls' (tally.Column expected",
            function() return p.nulls(t) end)
check_error("bad argument #1 to 'totable' (tally.Column expected",
            function() return p.totable(t) end)
check_error("bad argument #1 to 'totable' (tally.Row expected, got tally.Table)",
            function() local r = t[1]; return r.totable(t) end)
check_error("bad argument #1 to 'read_csv' (string expected, got table)",
            function() return tally.read_csv({}) end)
check_error("bad argument #1 to 'from_columns' (table expected, got no value)",
            function() return tally.from_columns() end)
check_error("attempt to index a tally.Table value", function() t.x = 1 end)

-- write_csv, then read_csv: the same table back ---------------------------------------
do
  local path = tmpname()
  t:write_csv(path)
  local u = tally.read_csv(path)
  os.remove(path)
  assert(#u == 40 and u:ncol() == 4)
  assert(u.participants:sum() == 446 and u.participants:count() == 30)
  for i = 1, #t do
    for j = 1, t:ncol() do
      assert(t[i][j] == u[i][j], string.format("row %d column %d differs", i, j))
    end
  end
  assert(tostring(u) == tostring(t))

  local path2 = tmpname()
  d:write_csv(path2)
  local v = tally.read_csv(path2)
  os.remove(path2)
  assert(v.date:type() == "date" and v.date[16] == "2018-02-01")
  assert(v.persons:sum() == 290)

  local path3 = tmpname()
  local f = tally.from_columns{ {"s", {"a,b", 'say "hi"', "line\nbreak", tally.null}},
                                {"x", {1.25, 2, 3, 4}} }
  f:write_csv(path3)
  local g = tally.read_csv(path3)
  os.remove(path3)
  assert(g.s[1] == "a,b" and g.s[2] == 'say "hi"' and g.s[3] == "line\nbreak")
  assert(g.s[4] == nil)
  assert(g.x:type() == "float" and g.x[1] == 1.25)

  check_error("write_csv: ", t.write_csv, t, "/no/such/dir/x.csv")
end

-- tostring of a long table: head, "...", tail, footer --------------------------------
do
  local s = tostring(t)
  local lines = {}
  for line in (s .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = line end
  assert(#lines == 2 + 20 + 1 + 1, #lines)
  assert(lines[1] == "program                                   year  participants  countries")
  assert(lines[2]:match("^%-+  %-%-%-%-  %-+  %-+$"))
  assert(lines[3] == "Organization Management for Senior Po...  2016            11         11")
  assert(lines[13] == "...                                        ...           ...        ...")
  assert(lines[#lines] == "[40 rows x 4 columns: program string, year int, participants int, countries int]")
  for _, line in ipairs(lines) do assert(not line:find(" $"), "trailing space: " .. line) end
end

-- __close, __gc: idempotent; a closed table raises, never crashes ---------------------
do
  local r, c
  do
    local u <close> = tally.read_csv("data/jdr_dispatches.csv")
    assert(#u == 16)
    r = u[1]
    c = u.persons
  end
  check_error("row: the table is closed", function() return r.date end)
  assert(c:sum() == 290)                               -- columns outlive their table
  do
    local c2 <close> = c
  end
  check_error("column is closed", c.sum, c)
  check_error("column: the column is closed", function() return c[1] end)
  check_error("from_columns: column 'p' is closed", tally.from_columns, { {"p", c} })
  local mt = getmetatable(t)
  assert(mt.__name == "tally.Table")
  assert(mt.__gc == mt.__close)
  local u = tally.read_csv("data/jdr_dispatches.csv")
  mt.__close(u); mt.__close(u); mt.__gc(u)
  check_error("table is closed", u.ncol, u)
  check_error("table is closed", function() return #u end)
  check_error("table: the table is closed (reading 'date')", function() return u.date end)
  check_error("table is closed", tostring, u)
  assert(getmetatable(p).__name == "tally.Column")
  assert(getmetatable(t[1]).__name == "tally.Row")
end

-- rows keep their table alive ------------------------------------------------------
do
  local r = tally.read_csv("data/jdr_dispatches.csv")[16]
  collectgarbage(); collectgarbage()
  assert(r.country == "Taiwan" and r.persons == 2)
  local col = tally.read_csv("data/jdr_dispatches.csv").persons
  collectgarbage(); collectgarbage()
  assert(col:sum() == 290)
end

print("test_binding: ok")
