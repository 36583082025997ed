-- Dates in read_json and read_ndjson: a field of strings is a date or a
-- timestamp column when one of the formats read_csv detects reads every
-- one (ISO 8601 with T, Z or an offset; 2015/01/31, 01/31/2015,
-- 2001/01/01 06:55, ...), dateformat and timestampformat replace the
-- common formats, and types force a type or keep the text.
-- The figures of vega-datasets' files are DuckDB's (1.x, @duckdb/node-api):
-- read_json's types, and min/max of strftime(date, '%Y-%m-%d %H:%M:%S');
-- flights40.json with timestampformat = '%Y/%m/%d %H:%M', as DuckDB's
-- read_json detects ISO only (tests/interop/json_dates.sh compares every value).
-- Run from the repository root: tally tests/lua/test_json_dates.lua

local tally = require "tally"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error: " .. msg)
  assert(tostring(err):find(msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, tostring(err)))
end

local tmp = os.tmpname()
local function spit(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local function kind(t, name) return t:col(name):type() end
local function span(t, name)
  local a = t:agg("lo = strftime(min(" .. name .. "), '%Y-%m-%d %H:%M:%S')",
                  "hi = strftime(max(" .. name .. "), '%Y-%m-%d %H:%M:%S')")
  return a.lo[1] .. " " .. a.hi[1]
end

-- vega-datasets' files, as DuckDB reads them
do
  local c = tally.read_json("tests/data/json/crimea.json")
  assert(#c == 24 and kind(c, "date") == "date" and kind(c, "army_size") == "int")
  assert(span(c, "date") == "1854-04-01 00:00:00 1856-03-01 00:00:00", span(c, "date"))
  local u = tally.read_json("tests/data/json/unemployment40.json")
  assert(#u == 40 and kind(u, "date") == "timestamp" and kind(u, "rate") == "float")
  assert(span(u, "date") == "2000-01-01 08:00:00 2003-04-01 08:00:00", span(u, "date"))
  local f = tally.read_json("tests/data/json/flights40.json")
  assert(#f == 40 and kind(f, "date") == "timestamp" and kind(f, "origin") == "string")
  assert(span(f, "date") == "2001-01-01 06:55:00 2001-01-02 15:04:00", span(f, "date"))
end

-- the formats, as read_csv detects them: offsets to UTC (DuckDB's read_csv
-- reads 2015-01-01 10:00:00+02:00 as 08:00 UTC), dates and timestamps mixed
-- as timestamps, 01/02/2015 month first unless dateformat says otherwise
do
  spit(tmp, [[
[{"a": "2015-01-01", "b": "2015-01-01T10:00:00Z", "c": "2015-01-01 10:00:00+02:00",
  "d": "2015/01/31", "e": "01/02/2015", "g": "2015-01-01T10:00:00.123", "h": "2015-01-01",
  "i": "2015/01/01 01:00:00", "j": "31.01.2015", "k": "2015-01-01 10:00", "l": "2015-02-30",
  "m": "2015-01-01", "n": "Jun 12 1998"},
 {"a": "2016-02-29", "b": "2016-02-29T23:59:59Z", "c": "2016-02-29 10:00:00-05:00",
  "d": "2016/02/29", "e": "02/29/2016", "g": "2016-02-29T00:00:00", "h": "2016-02-29 10:00:00",
  "i": "2016/02/29 13:00:00", "j": "29.02.2016", "k": "2016-01-01 11:30", "l": "2015-02-28",
  "m": "", "n": null}]
]])
  local t = tally.read_json(tmp)
  local want = { a = "date", b = "timestamp", c = "timestamp", d = "date", e = "date",
                 g = "timestamp", h = "timestamp", i = "timestamp", j = "date", k = "timestamp",
                 l = "string", m = "string", n = "string" }
  for name, ty in pairs(want) do assert(kind(t, name) == ty, name .. ": " .. kind(t, name)) end
  assert(tostring(t.c[1]) == "2015-01-01T08:00:00" and tostring(t.c[2]) == "2016-02-29T15:00:00")
  assert(tostring(t.e[1]) == "2015-01-02" and tostring(t.d[2]) == "2016-02-29")
  assert(tostring(t.g[1]) == "2015-01-01T10:00:00.123000", tostring(t.g[1]))
  assert(tostring(t.h[1]) == "2015-01-01T00:00:00" and tostring(t.j[1]) == "2015-01-31")
  assert(t.l[1] == "2015-02-30" and t.m[2] == "")
  -- dateformat and timestampformat: in place of the common formats
  local d = tally.read_json(tmp, { dateformat = "%d/%m/%Y", timestampformat = "%Y/%m/%d %H:%M:%S" })
  assert(kind(d, "e") == "string", "02/29/2016 is no day/month/year")
  assert(kind(d, "a") == "date" and kind(d, "i") == "timestamp" and kind(d, "d") == "string")
  spit(tmp, '[{"e": "01/02/2015", "s": "31.01.2015 10.30"}, {"e": "13/02/2015", "s": "01.02.2015 00.00"}]')
  local e = tally.read_json(tmp, { dateformat = "%d/%m/%Y", timestampformat = "%d.%m.%Y %H.%M" })
  assert(tostring(e.e[1]) == "2015-02-01" and tostring(e.e[2]) == "2015-02-13")
  assert(tostring(e.s[1]) == "2015-01-31T10:30:00" and kind(e, "s") == "timestamp")
  local auto = tally.read_json(tmp)   -- 13/02/2015 rules out month first: day first it is
  assert(kind(auto, "e") == "date" and tostring(auto.e[1]) == "2015-02-01")
  assert(kind(auto, "s") == "string", "31.01.2015 10.30 is no common format")
end

-- NDJSON reads the same way
do
  spit(tmp, '{"d": "1854-04-01", "t": "2000-01-01T08:00:00.000Z"}\n\n{"d": null, "t": "2000-02-01T08:00:00.000Z"}\n')
  local t = tally.read_ndjson(tmp)
  assert(kind(t, "d") == "date" and kind(t, "t") == "timestamp" and t.d[2] == nil)
  assert(tostring(t.t[2]) == "2000-02-01T08:00:00")
end

-- types: keep the text, or force a type (as read_csv's forced columns read)
do
  local c = tally.read_json("tests/data/json/crimea.json", { types = { date = "string" } })
  assert(kind(c, "date") == "string" and c.date[1] == "1854-04-01")
  c = tally.read_json("tests/data/json/crimea.json", { types = { date = "timestamp" } })
  assert(kind(c, "date") == "timestamp" and tostring(c.date[1]) == "1854-04-01T00:00:00")
  local f = tally.read_json("tests/data/json/flights40.json", { types = { date = "string" } })
  assert(kind(f, "date") == "string" and f.date[1] == "2001/01/01 06:55")
  f = tally.read_json("tests/data/json/flights40.json", { types = { date = "date:%Y/%m/%d %H:%M" } })
  assert(kind(f, "date") == "date" and tostring(f.date[40]) == "2001-01-02")
  check_error("read_json: tests/data/json/unemployment40.json: record 1: field 'date': "
              .. "'2000-01-01T08:00:00.000Z' is not a date", tally.read_json,
              "tests/data/json/unemployment40.json", { types = { date = "date" } })
  check_error("read_json: option 'dateformat' must be a strptime format", tally.read_json,
              "tests/data/json/crimea.json", { dateformat = 5 })
end

os.remove(tmp)
print("test_json_dates: ok")
