-- Dates and timestamps in expressions: parts, date_trunc, date_diff,
-- date_sub, date_add, strftime, to_date, to_timestamp, epoch, make_date and
-- date arithmetic, against DuckDB's answers (tests/data/dates, made by
-- make_duckdb.js there), with nulls, edge cases and the errors.
-- Run from the repository root: tally tests/lua/test_dates.lua

local tally = require "tally"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

-- against DuckDB ----------------------------------------------------------
local ref = tally.read_csv("tests/data/dates/duckdb_dates.csv", { infer = false })
local t = ref:mutate("dd = to_date(d)", "tt = to_timestamp(ts, '%Y-%m-%d %H:%M:%S.%f')")
local m = t:mutate(
  "weekday = weekday(dd)", "yearday = yearday(dd)", "quarter = quarter(dd)", "week = week(dd)",
  "hour = hour(tt)", "minute = minute(tt)", "second = second(tt)",
  "tr_year = strftime(date_trunc('year', dd), '%Y-%m-%d')",
  "tr_quarter = strftime(date_trunc('quarter', dd), '%Y-%m-%d')",
  "tr_month = strftime(date_trunc('month', dd), '%Y-%m-%d')",
  "tr_week = strftime(date_trunc('week', dd), '%Y-%m-%d')",
  "tr_hour = strftime(date_trunc('hour', tt), '%Y-%m-%d %H:%M:%S')",
  "tr_minute = strftime(date_trunc('minute', tt), '%Y-%m-%d %H:%M:%S')",
  "diff_year = date_diff('year', dd, '2016-02-29')",
  "diff_quarter = date_diff('quarter', dd, '2016-02-29')",
  "diff_month = date_diff('month', dd, '2016-02-29')",
  "diff_week = date_diff('week', dd, '2016-02-29')",
  "diff_day = date_diff('day', dd, '2016-02-29')",
  "diff_hour = date_diff('hour', tt, '2016-02-29 12:30:00')",
  "diff_minute = date_diff('minute', tt, '2016-02-29 12:30:00')",
  "sub_year = date_sub('year', dd, '2016-02-29')",
  "sub_month = date_sub('month', dd, '2016-02-29')",
  "sub_quarter = date_sub('quarter', dd, '2016-02-29')",
  "sub_week = date_sub('week', dd, '2016-02-29')",
  "sub_day = date_sub('day', tt, '2016-02-29 12:30:00')",
  "sub_month_ts = date_sub('month', tt, '2016-02-29 12:30:00')",
  "add_month = strftime(date_add(dd, 1, 'month'), '%Y-%m-%d')",
  "add_13_months = strftime(date_add(dd, 13, 'months'), '%Y-%m-%d')",
  "sub_1_year = strftime(date_add(dd, -1, 'year'), '%Y-%m-%d')",
  "add_90_minutes = strftime(date_add(tt, 90, 'minute'), '%Y-%m-%d %H:%M:%S.%f')",
  "epoch = epoch(tt)",
  "s_bdy = strftime(dd, '%b %d %Y')", "s_long = strftime(dd, '%A %B %j %y')",
  "s_12h = strftime(tt, '%d/%m/%Y %I:%M:%S %p')",
  "back = strftime(to_date(strftime(dd, '%b %d %Y'), '%b %d %Y'), '%Y-%m-%d')")
local cols = { "weekday", "yearday", "quarter", "week", "hour", "minute", "second", "tr_year",
  "tr_quarter", "tr_month", "tr_week", "tr_hour", "tr_minute", "diff_year", "diff_quarter",
  "diff_month", "diff_week", "diff_day", "diff_hour", "diff_minute", "sub_year", "sub_month",
  "sub_quarter", "sub_week", "sub_day", "sub_month_ts", "add_month", "add_13_months",
  "sub_1_year", "add_90_minutes", "s_bdy", "s_long", "s_12h", "back" }
assert(#m == 100)
for i = 1, #m do
  local r, want = m[i], ref[i]
  for _, c in ipairs(cols) do
    local got = tostring(r[c])
    assert(got == want[c], string.format("row %d (%s %s), %s: got %s, DuckDB %s", i, want.d,
                                         want.ts, c, got, want[c]))
  end
  assert(math.abs(r.epoch - tonumber(want.epoch)) < 1e-6, "epoch at row " .. i)
end

-- values, nulls and edge cases --------------------------------------------
local e = tally.from_columns{
  { "s", { "2016-02-29", "0000-01-01", "9999-12-31", tally.null, "1970-01-01" } },
  { "n", { 1, 2, tally.null, 4, -1 } },
}
local x = e:mutate("d = to_date(s)", "y = year(d)", "p = d + n", "q = d - n", "k = n + d",
                   "w = weekday(d)", "mk = make_date(year(d), 2, 28) + n")
assert(x[1].d == "2016-02-29" and x[1].p == "2016-03-01" and x[1].q == "2016-02-28")
assert(x[2].d == "0000-01-01" and x[2].y == 0 and x[2].w == 6)   -- year 0 is a leap year
assert(x[3].d == "9999-12-31" and x[3].p == nil and x[3].w == 5)
assert(x[4].d == nil and x[4].y == nil and x[4].p == nil and x[4].w == nil)
assert(x[5].p == "1969-12-31" and x[5].k == "1969-12-31")
assert(x[1].mk == "2016-02-29" and x[2].mk == "0000-03-01" and x[5].mk == "1970-02-27")

-- date - date is an int of days; timestamp - timestamp a float of seconds
local a = e:mutate("d = to_date(s)", "g = d - to_date('2016-01-01')",
                   "sec = to_timestamp('2016-01-01 00:00:01.5') - to_timestamp('2016-01-01')",
                   "mix = timestamp(d) - d")
assert(a:col("g"):type() == "int" and a[1].g == 59 and a[5].g == -16801 and a[4].g == nil)
assert(a:col("sec"):type() == "float" and a[1].sec == 1.5 and a[1].mix == 0.0)

-- a string constant where a date is expected is read as one
local f = e:filter("to_date(s) >= '2016-01-01'")
assert(#f == 2)
assert(e:filter("date_diff('day', '2016-02-28', to_date(s)) == 1")[1].s == "2016-02-29")
check_error("'2016-02-30' is not a date at column 15",
            function() return e:filter("to_date(s) >= '2016-02-30'") end)

-- strptime: names, 12-hour clocks, fractions, offsets, day of the year
local p = tally.from_columns{ { "s", {
  "Feb 29 2016 11:59:59 PM", "january 5 1999 12:00:00 AM", "DEC 31 9999 12:30:00 pm" } } }
local pm = p:mutate("t = to_timestamp(s, '%b %d %Y %I:%M:%S %p')")
assert(pm[1].t == "2016-02-29T23:59:59" and pm[2].t == "1999-01-05T00:00:00" and
       pm[3].t == "9999-12-31T12:30:00")
local z = tally.from_columns{ { "s", { "2015-06-01T10:00:00+02:00", "2015-06-01T10:00:00Z",
                                       "2015-06-01 10:00:00.25-0130" } } }
local zm = z:mutate("t = to_timestamp(s)")
local zu = z:head(2):mutate("u = to_timestamp(s, '%Y-%m-%dT%H:%M:%S%z')")
assert(zm[1].t == "2015-06-01T08:00:00" and zm[2].t == "2015-06-01T10:00:00" and
       zm[3].t == "2015-06-01T11:30:00.250000")
assert(zu[1].u == "2015-06-01T08:00:00" and zu[2].u == "2015-06-01T10:00:00")
local j = tally.from_columns{ { "s", { "2016 366", "2015 001", "15/7/4" } } }
assert(j:head(2):mutate("d = to_date(s, '%Y %j')")[1].d == "2016-12-31")
assert(j:slice(3, 3):mutate("d = to_date(s, '%y/%m/%d')")[1].d == "2015-07-04")
-- names: the whole name or its first three letters, in any case; a letter
-- after the three, or more of the name but not all of it, is no name
local nm = tally.from_columns{ { "s", { "May 1 2015", "SEPTEMBER 2 2015", "sep 3 2015", "wed, mAR 4 2015" } } }
local nmd = nm:head(3):mutate("d = to_date(s, '%b %d %Y')")
assert(nmd[1].d == "2015-05-01" and nmd[2].d == "2015-09-02" and nmd[3].d == "2015-09-03")
assert(nm:slice(4, 4):mutate("d = to_date(s, '%a, %b %d %Y')")[1].d == "2015-03-04")
for _, s in ipairs({ "Mayday 4 2015", "Sept 5 2015", "Juneau 6 2015", "Ju 7 2015", "Jul" }) do
  check_error("does not match the format '%b %d %Y'", function()
    return tally.from_columns{ { "s", { s } } }:mutate("d = to_date(s, '%b %d %Y')") end)
end
assert(e:mutate("t = to_timestamp(n)")[1].t == "1970-01-01T00:00:01")
assert(e:mutate("s2 = strftime(to_date(s), '%%Y=%Y')")[1].s2 == "%Y=2016")

-- errors name the row and the value ----------------------------------------
local bad = tally.from_columns{ { "s", { "2015-01-01", "2015-02-28", "2015-02-30", "" } } }
check_error("mutate: to_date: '2015-02-30' at row 3 is not a valid date",
            function() return bad:mutate("d = to_date(s)") end)
check_error("filter: to_date: '2015-02-30' at row 3 is not a valid date",
            function() return bad:filter("to_date(s, '%Y-%m-%d') > '2015-01-01'") end)
check_error("to_date: '' at row 3 is not an ISO 8601 date",
            function() return bad:filter("s ~= '2015-02-30'"):mutate("d = to_date(s)") end)
check_error("to_date: 'Jan 1 2015' at row 1 does not match the format '%Y-%m-%d'",
            function() return tally.from_columns{ { "s", { "Jan 1 2015" } } }:mutate(
              "d = to_date(s, '%Y-%m-%d')") end)
check_error("make_date: '2015-2-29' at row 2 is not a date",
            function() return tally.from_columns{ { "y", { 2016, 2015 } } }:mutate(
              "d = make_date(y, 2, 29)") end)
check_error("date_add: result out of range at row 1",
            function() return e:mutate("d = date_add(to_date(s), 9223372036854775807, 'day')") end)
check_error("unknown unit 'fortnight'", function() return e:mutate("d = date_trunc('fortnight', to_date(s))") end)
check_error("date_trunc's unit must be a string constant", function() return e:mutate("d = date_trunc(s, to_date(s))") end)
check_error("year of int (a date is needed)", function() return e:mutate("d = year(n)") end)
check_error("weekday of string (a date or timestamp is needed)", function() return e:mutate("d = weekday(s)") end)
check_error("arithmetic on date + date", function() return e:mutate("d = to_date(s) + to_date(s)") end)
check_error("strftime's format must be a string constant", function() return e:mutate("d = strftime(to_date(s), s)") end)

-- a Lua function's date must be a day ------------------------------------
local fn = tally.func{ name = "feb", type = "date",
  fn = function(k) return k == 2 and "2015-02-30" or "2015-02-28" end }
check_error("function 'feb': row 2: returned string \"2015-02-30\", which is not a date",
            function() return e:mutate("d = feb(n)") end)
assert(e:head(1):mutate("d = feb(n)")[1].d == "2015-02-28")

-- group by a truncated date -------------------------------------------------
local g = t:mutate("m = date_trunc('year', dd)"):filter("m >= '2000-01-01'")
  :group_by("m"):agg("n = count()")
local total = 0
for i = 1, #g do total = total + g[i].n end
assert(total == #t:filter("dd >= '2000-01-01'"))

print("test_dates: ok")
