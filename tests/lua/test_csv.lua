-- read_csv from Lua: read_csv_string, columns, max_rows, on_error = "skip"
-- with t:rejects(), record numbers in messages, max_field_size, the reasons
-- in t:schema(), and a round trip.
-- Run from the repository root: tally tests/lua/test_csv.lua

local tally = require "tally"
local testing = require "tally.testing"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

local function rows(t)
  local out = {}
  for _, r in t:rows() do
    local cells = {}
    for j = 1, t:ncol() do cells[j] = tostring(r[j]) end
    out[#out + 1] = table.concat(cells, "|")
  end
  return table.concat(out, "\n")
end

-- read_csv_string -------------------------------------------------------------
do
  local t = tally.read_csv_string("a,b\n1,x\n2,y\n")
  assert(#t == 2 and t:ncol() == 2)
  assert(t.a:type() == "int" and t.b[2] == "y")
  local u = tally.read_csv_string("a;b\n1;2\n", { sep = ";", types = { b = "float" } })
  assert(u.b:type() == "float" and u.b[1] == 2.0)
  check_error("read_csv: <string>:3:2 (column 'b', record 2): too few fields (expected 2, found 1)",
              tally.read_csv_string, "a,b\n1,2\n3\n")
  check_error("bad argument #1 to 'tally.read_csv_string' (string expected, got no value)",
              tally.read_csv_string)
  assert(#tally.read_csv_string("") == 0)
end

-- columns -------------------------------------------------------------------------
do
  local t = tally.read_csv_string("a,b,c\n1,x,2.5\n2,\xff,3\n", { columns = { "c", "a" } })
  assert(table.concat(t:names(), ",") == "c,a")
  assert(rows(t) == "2.5|1\n3.0|2")
  check_error("read_csv: <string>: columns: unknown column 'yaer' (did you mean 'year'?)",
              tally.read_csv_string, "year,n\n1,2\n", { columns = { "yaer" } })
  check_error("read_csv_string: option 'columns' must be a list of column names",
              tally.read_csv_string, "a\n1\n", { columns = "a" })
  local d = tally.read_csv("data/jdr_dispatches.csv")
  local s = tally.read_csv("data/jdr_dispatches.csv", { columns = { d:names()[2] } })
  assert(s:ncol() == 1 and #s == #d)
end

-- max_rows ------------------------------------------------------------------------
do
  local t = tally.read_csv_string("a\n1\n2\nx\n", { max_rows = 2 })
  assert(#t == 2 and t.a:type() == "int")
  assert(#tally.read_csv_string("a\n1\n", { max_rows = 0 }) == 0)
  check_error("read_csv_string: option 'max_rows' must be an integer in [0, 9223372036854775807], got -1",
              tally.read_csv_string, "a\n1\n", { max_rows = -1 })
end

-- on_error = "skip" and t:rejects() -------------------------------------------------
do
  local t = tally.read_csv_string("a,b\n1,2\n3\n4,5,6\n8,9\n", { on_error = "skip" })
  assert(rows(t) == "1|2\n8|9")
  local r = t:rejects()
  assert(#r == 2)
  assert(table.concat(r:names(), ",") == "line,record,field,column,class,excerpt")
  assert(r[1].line == 3 and r[1].record == 2 and r[1].field == 2 and r[1].column == "b"
         and r[1].class == "too_few_fields" and r[1].excerpt == "3")
  assert(r[2].line == 4 and r[2].record == 3 and r[2].column == nil
         and r[2].class == "too_many_fields" and r[2].excerpt == "4,5,6")
  assert(#t + #r == 4)                                   -- rows + rejects = records read
  local f = tally.read_csv_string("n\n1\ntwo\n3\n", { on_error = "skip", types = { n = "int" } })
  assert(#f == 2 and f:rejects()[1].class == "forced_type" and f:rejects()[1].excerpt == "two")
  -- a clean load has an empty rejects table; a derived table none
  local c = tally.read_csv_string("a\n1\n")
  assert(#c:rejects() == 0)
  assert(c:head(1):rejects() == nil)
  check_error("read_csv_string: option 'on_error' must be \"error\" or \"skip\"",
              tally.read_csv_string, "a\n1\n", { on_error = "ignore" })
  check_error("read_csv: <string>:3:2 (column 'b', record 2): too few fields",
              tally.read_csv_string, "a,b\n1,2\n3\n", { on_error = "error" })
end

-- record numbers: records are not lines when a quoted field holds a line end,
-- or with skip, comment lines and blank lines --------------------------------------
do
  local text = "title\n\na,b\n# note\n\"x\ny\",1\n\n2,\"p\nq\"\n3\n"
  for _, chunk in ipairs({ 1, 2, 3, 7, 64, 4096, false }) do
    local opts = { skip = 2, comment = "#" }
    local knobs = { chunk_size = chunk or 0 }
    check_error("read_csv: <string>:10:2 (column 'b', record 3): too few fields",
                testing.with, knobs, tally.read_csv_string, text, opts)
    opts.on_error = "skip"
    local t = testing.with(knobs, tally.read_csv_string, text, opts)
    local r = t:rejects()[1]
    assert(#t == 2 and r.line == 10 and r.record == 3, tostring(chunk))
  end
  check_error("read_csv: <string>:2:1 (column 'column1', record 2): unterminated quoted field",
              tally.read_csv_string, "1\n\"2\n", { header = false })
  check_error("read_csv: <string>:1:2 (header): unterminated quoted field",
              tally.read_csv_string, "a,\"b\n1,2\n")
end

-- max_field_size ------------------------------------------------------------------------
do
  local t = tally.read_csv_string("a,b\nxxxx,\"y\"\"y\"\n", { max_field_size = 4 })
  assert(#t == 1 and t.a[1] == "xxxx" and t.b[1] == 'y"y')
  check_error("read_csv: <string>:2:1 (column 'a', record 1): field of 5 bytes exceeds "
              .. "max_field_size (4): near \"xxxxx\"",
              tally.read_csv_string, "a\nxxxxx\n", { max_field_size = 4 })
  local s = tally.read_csv_string("a,b\n1,\"12\n45\"\n2,ok\n",
                                  { max_field_size = 4, on_error = "skip" })
  assert(#s == 1 and s.a[1] == 2)
  local r = s:rejects()[1]
  assert(r.class == "field_too_large" and r.line == 2 and r.record == 1 and r.field == 2
         and r.column == "b")
  check_error("read_csv_string: option 'max_field_size' must be an integer in [1, 9223372036854775807]",
              tally.read_csv_string, "a\n1\n", { max_field_size = 0 })
end

-- byte ranges: every record once, in order; the same names, lines and records --------
do
  local text = "a,b\n1,\"x\ny\"\n2,\"\"\"\"\r\n3,z\r4,w\n"
  local whole = rows(tally.read_csv_string(text, { infer = false }))
  local function quotes(s) return select(2, s:gsub('"', "")) end
  local function line_ends(s) return select(2, s:gsub("\r\n", "\n"):gsub("[\r\n]", "")) end
  for cut = 1, #text - 1 do
    for _, parity in ipairs({ true, false }) do
      local head = text:sub(1, cut)
      local o1 = { infer = false, range_start = 0, range_stop = cut }
      local o2 = { infer = false, range_start = cut }
      if parity then
        o2.range_quotes, o2.range_line = quotes(head), 1 + line_ends(head)
      end
      local t1, t2 = tally.read_csv_string(text, o1), tally.read_csv_string(text, o2)
      assert(table.concat(t2:names(), ",") == "a,b")
      local got = rows(t1) .. (#t1 > 0 and #t2 > 0 and "\n" or "") .. rows(t2)
      assert(got == whole, string.format("cut %d: %q", cut, got))
    end
  end
  check_error("read_csv: <string>:7:2 (column 'b', record 5): too few fields",
              tally.read_csv_string, text .. "5\n", { range_start = 20, range_quotes = 6 })
  check_error("read_csv: <string>: bad range [9, 3)",
              tally.read_csv_string, text, { range_start = 9, range_stop = 3 })
  check_error("read_csv_string: option 'range_quotes' must be an integer in [-1, 9223372036854775807]",
              tally.read_csv_string, text, { range_quotes = -2 })
end

-- why a column got its type ---------------------------------------------------------
do
  local t = tally.read_csv_string("code,n,s\n1,1,a\n2,2.5,b\nA12,3,c\n")
  local s = t:schema()
  assert(s[1].type == "string" and s[1].reason == "'A12' at line 4 is not a number", s[1].reason)
  assert(s[2].type == "float" and s[2].reason == "'2.5' at line 3 is not an integer")
  assert(s[3].type == "string" and s[3].reason == nil)
  assert(t:select("code"):schema()[1].reason == nil)     -- a derived table: no reasons
end

-- progress: never drawn for a load under a second ----------------------------------------
do
  local t = tally.read_csv_string("a\n1\n", { progress = true })
  assert(#t == 1)
  check_error("read_csv_string: option 'progress' must be a boolean, got string",
              tally.read_csv_string, "a\n1\n", { progress = "yes" })
end

-- round trip: strings that need quoting, nulls, numbers that look like text -----------
do
  local pieces = { "a", ",", "\"", "\n", "\r\n", " ", "", "é", "007", "1", ";" }
  math.randomseed(7)
  local path = os.tmpname()
  for _ = 1, 20 do
    local n = math.random(0, 30)
    local s, i, f, b = {}, {}, {}, {}
    for k = 1, n do
      if math.random(5) > 1 then
        local parts = {}
        for m = 1, math.random(0, 4) do parts[m] = pieces[math.random(#pieces)] end
        s[k] = table.concat(parts)
      end
      if math.random(5) > 1 then i[k] = math.random(-1000000, 1000000) end
      if math.random(5) > 1 then f[k] = (math.random() - 0.5) * 10 ^ math.random(-30, 30) end
      if math.random(5) > 1 then b[k] = math.random(2) == 1 end
    end
    for _, a in ipairs{ s, i, f, b } do   -- a nil at the end would shorten the array
      if n > 0 and a[n] == nil then a[n] = tally.null end
    end
    local t = tally.from_columns{ {"s", s}, {"i", i}, {"f", f}, {"b", b} }
    if #t < n then t = t:head(n) end
    t:write_csv(path)
    local u = tally.read_csv(path, { sep = ",", types = { s = "string", i = "int", f = "float",
                                                            b = "bool" } })
    assert(#u == #t, "rows")
    for j = 1, 4 do
      local a, c = t:col(j):totable(), u:col(j):totable()
      for k = 1, #t do
        assert(a[k] == c[k], string.format("column %d row %d: %q ~= %q", j, k,
                                           tostring(a[k]), tostring(c[k])))
      end
    end
  end
  os.remove(path)
end

print("csv: ok")
