-- Sizes and integers from hostile Lua values: metamethods that lie about a
-- length, sparse arrays, and integers past what the core takes. Each must
-- give a clean error that names the operation and the argument (or be
-- ignored, for a metamethod), never a crash, a hang or a truncated value.
-- Run from the repository root: tally tests/lua/test_hostile.lua

local tally = require "tally"
local testing = require "tally.testing"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

-- a table whose border (what # and lua_rawlen answer) is 2^40, with 41
-- entries: a constructor puts them all in the hash part, where the border
-- search doubles its index while it finds one
local function holes(v)
  local keys = {}
  for k = 0, 40 do keys[#keys + 1] = string.format("[%d] = v", 1 << k) end
  return load("local v = ... return { " .. table.concat(keys, ", ") .. " }")(v)
end
assert(rawlen(holes("a")) == 1 << 40)

-- lengths that lie
local function lying(n, t)
  return setmetatable(t or {}, { __len = function() return n end,
                                 __index = function() error("__index called") end })
end

local csv = "a,b,c\n1,2,3\n4,5,6\n7,8,9\n"
local function read(opts) return tally.read_csv_string(csv, opts) end

-- read_csv: columns ----------------------------------------------------------
do
  local t = read{ columns = lying(-1, { "b" }) }   -- __len is not asked
  assert(#t == 3 and t:ncol() == 1 and t.b[1] == 2)
  t = read{ columns = lying(2 ^ 31, { "c", "a" }) }
  assert(t:ncol() == 2 and t:names()[1] == "c")
  check_error("read_csv_string: option 'columns' is a sparse array (largest index 2147483648, 2 entries)",
              read, { columns = { "a", [2 ^ 31] = "b" } })
  check_error("read_csv_string: option 'columns' is a sparse array", read, { columns = holes("a") })
  check_error("read_csv_string: option 'columns' must be a list of column names",
              read, { columns = { "a", nil, "b" } })
end

-- read_csv: null ----------------------------------------------------------
do
  local t = read{ null = lying(2 ^ 40, { "5" }) }
  assert(t.b[2] == nil and t.b[1] == 2)
  check_error("read_csv_string: option 'null' is a sparse array", read, { null = holes("x") })
  check_error("read_csv_string: option 'null' is a sparse array (largest index 100, 2 entries)",
              read, { null = { "NA", [100] = "x" } })
end

-- read_csv: types, a map: metamethods are not asked
do
  local t = read{ types = setmetatable({ a = "float" }, { __index = function() error("no") end,
                                                        __pairs = function() error("no") end }) }
  assert(math.type(t.a[1]) == "float")
end

-- read_csv: integer options ---------------------------------------------------
check_error("read_csv_string: option 'skip' must be an integer in [0, 2147483647], got 4294967298",
            read, { skip = 2 ^ 32 + 2 })
check_error("read_csv_string: option 'skip' must be an integer in [0, 2147483647], got 4294967298",
            read, { skip = (1 << 32) + 2 })
check_error("read_csv_string: option 'skip' must be an integer in [0, 2147483647], got 2.5",
            read, { skip = 2.5 })
check_error("read_csv_string: option 'skip' must be an integer in [0, 2147483647], got nan",
            read, { skip = 0 / 0 })
check_error("read_csv_string: option 'skip' must be an integer in [0, 2147483647], got string",
            read, { skip = "1" })
assert(#read{ skip = 2 ^ 31 - 1 } == 0)            -- the end of the text, at once
assert(#read{ skip = -0.0 } == 3)
assert(#read{ skip = 1.0, header = false } == 3)
check_error("read_csv_string: option 'max_rows' must be an integer in [0, 9223372036854775807], got inf",
            read, { max_rows = math.huge })
check_error("read_csv_string: option 'max_rows' must be an integer in [0, 9223372036854775807], got 9.2233720368548e+18",
            read, { max_rows = 2 ^ 63 })
assert(#read{ max_rows = math.maxinteger } == 3)
check_error("read_csv_string: option 'max_field_size' must be an integer in [1, ",
            read, { max_field_size = 0 })
check_error("read_csv_string: option 'max_field_size' must be an integer in [1, ",
            read, { max_field_size = -2 ^ 63 })
check_error("testing.set: knob 'chunk_size' must be an integer in [0, 2147483647], got 9.007199254741e+15",
            testing.set, { chunk_size = 2 ^ 53 })
check_error("testing.with: unknown option 'chunk'", testing.with, { chunk = 1 }, read)
check_error("read_csv_string: option 'range_start' must be an integer in [0, ", read, { range_start = -1 })
check_error("read_csv_string: option 'range_quotes' must be an integer in [-1, ",
            read, { range_quotes = -2 })

-- from_columns --------------------------------------------------------------
check_error("from_columns: column 'a' is a sparse array (largest index 1099511627776, 1 entries)",
            tally.from_columns, { { "a", { [2 ^ 40] = 1 } } })
check_error("from_columns: column 'a' is a sparse array (largest index 40, 2 entries)",
            tally.from_columns, { { "a", { 1, [40] = 2 } } })
check_error("from_columns: column 'a' is a sparse array", tally.from_columns, { { "a", holes(1) } })
check_error("from_columns: column 'a' must be an array, not a table with key 'x'",
            tally.from_columns, { { "a", { 1, x = 2 } } })
check_error("from_columns: column 'a' must be an array, not a table with key 0",
            tally.from_columns, { { "a", { [0] = 1 } } })
do
  local t = tally.from_columns{ { "a", { 1, nil, 3 } } }          -- a hole is a null
  assert(#t == 3 and t.a[2] == nil)
  t = tally.from_columns{ { "a", { 1, [20] = 2 } } }                -- 2 entries: 20 is not sparse
  assert(#t == 20)
  t = tally.from_columns(lying(2 ^ 40, { { "a", { 1, 2 } } }))       -- __len is not asked
  assert(#t == 2 and t:ncol() == 1)
  t = tally.from_columns{ { "a", lying(-5, { 1, 2, 3 }) } }
  assert(#t == 3)
end
check_error("from_columns: the list of columns is a sparse array",
            tally.from_columns, { { "a", { 1 } }, [1000] = { "b", { 2 } } })
check_error("from_columns: the list of columns is a sparse array", tally.from_columns,
            holes({ "a", { 1 } }))

-- from_rows -------------------------------------------------------------------
check_error("from_rows: the rows is a sparse array", tally.from_rows, holes({ a = 1 }))
check_error("from_rows: the rows is a sparse array (largest index 1099511627776, 2 entries)",
            tally.from_rows, { { a = 1 }, [2 ^ 40] = { a = 2 } })
check_error("from_rows: the names is a sparse array", tally.from_rows, { { a = 1 } }, holes("a"))
do
  local t = tally.from_rows(lying(2 ^ 40, { { a = 1 }, { a = 2 } }))
  assert(#t == 2)
  t = tally.from_rows({ { a = 1, b = 2 } }, lying(2 ^ 31, { "b" }))
  assert(t:ncol() == 1 and t.b[1] == 2)
  t = tally.from_rows(table.pack({ a = 1 }, { a = 2 }))               -- the field n is not a row
  assert(#t == 2)
end

-- lists of names ----------------------------------------------------------------
local t = tally.from_columns{ { "k", { 1, 2, 3 } }, { "v", { 10, 20, 30 } } }
check_error("select: the list of names is a sparse array", t.select, t, holes("k"))
check_error("select: the list of names is a sparse array", t.select, t, { "k", [2 ^ 40] = "v" })
assert(t:select(lying(2 ^ 40, { "v" })):ncol() == 1)
check_error("sort: the list of names is a sparse array", t.sort, t, holes("k"))
check_error("group_by: the list of names is a sparse array", t.group_by, t, holes("k"))
check_error("top: the list of names is a sparse array", t.top, t, 1, holes("k"))
check_error("join: option 'on' is a sparse array", t.join, t, t, { on = holes("k") })
check_error("join: option 'on' is a sparse array", t.join, t, t, { on = { "k", [2 ^ 40] = "v" } })
check_error("join: option 'on' (left) is a sparse array", t.join, t, t,
            { on = { left = holes("k"), right = { "k" } } })
assert(#t:join(t, { on = lying(0, { "k" }) }) == 3)
check_error("concat: the list of tables is a sparse array", t.concat, t, holes(t))
check_error("isin: the list of values is a sparse array", function() return t.k:isin(holes(1)) end)
check_error("isin: the list of values is a sparse array",
            function() return t.k:isin{ 1, [2 ^ 40] = 2 } end)
assert(t.k:isin(lying(2 ^ 40, { 2 })):sum() == 1)
check_error("mutate: option 'order_by' is a sparse array",
            t.mutate, t, "r = row_number()", { order_by = holes("k") })
check_error("pivot_longer: option 'cols' is a sparse array",
            t.pivot_longer, t, { cols = holes("v"), names_to = "n", values_to = "x" })

-- integer arguments --------------------------------------------------------------
check_error("head: the number of rows must be an integer in [0, ", t.head, t, 2 ^ 63)
check_error("head: the number of rows must be an integer in [0, ", t.head, t, -1)
check_error("tail: the number of rows must be an integer in [0, ", t.tail, t, 0.5)
assert(#t:head(2 ^ 53) == 3 and #t:tail(math.maxinteger) == 3)
check_error("top: the number of rows must be an integer in [0, ", t.top, t, 2 ^ 63, "k")
check_error("slice: the first row must be an integer", t.slice, t, 0 / 0)
assert(#t:slice(math.mininteger, math.maxinteger) == 3)
check_error("show: the number of rows must be an integer in [1, ", t.show, t, 2 ^ 63)
check_error("show: option 'n' must be an integer in [1, ", t.show, t, { n = 0 / 0 })
check_error("show: option 'width' must be an integer in [0, ", t.show, t,
            { width = 2 ^ 32 + 40 })
check_error("hist: option 'width' must be an integer in [0, ",
            function() return t.v:hist{ width = 2 ^ 32 + 40, print = false } end)
check_error("hist: option 'bins' must be an integer in [1, 1000], got 4294967301",
            function() return t.v:hist{ bins = 2 ^ 32 + 5, print = false } end)
check_error("bar: option 'width' must be an integer in [0, ",
            t.bar, t, "k", "v", { width = -2 ^ 32 + 40, print = false })
check_error("plot: option 'width' must be an integer in [120, ",
            t.plot, t, { x = "k", y = "v", width = 2 ^ 32 + 600 })
check_error("threads: the number of threads must be an integer in [0, 1024], got -4294967294",
            tally.threads, -2 ^ 32 + 2)
check_error("threads: the number of threads must be an integer in [0, 1024], got 4294967298",
            tally.threads, 2 ^ 32 + 2)
do
  local n = tally.threads()
  assert(tally.threads(2.0) == 2)
  tally.threads(0)
  assert(tally.threads() == n)
end

print("ok")
