-- read_csv and dates: the common formats detected, month before day unless
-- dateformat says otherwise, ISO with T and offsets, timestampformat, and a
-- column's own format in types. Run from the repository root.

local tally = require "tally"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

local dir = os.getenv("TMPDIR") or "/tmp"
local path = dir .. "/tally_test_csv_dates_" .. tostring(os.time()) .. ".csv"
local f = assert(io.open(path, "w"))
f:write("slash_ts,us,iso_z,ambiguous,named,offset,bad,dots,pm\n",
        "2015/01/01 01:00:00,01/31/2015,2015-01-01T10:00:00Z,01/02/2015,Jan 05 2015,2015-01-01T10:00:00+02:00,2015-02-30,31.12.1999,2015-01-01 01:30:00 PM\n",
        "2015/12/31 23:59:59,2/29/2016,2015-01-01T10:00,03/04/2015,Feb 29 2016,2015-01-01,2015-01-01,01.01.2000,2015-01-01 12:00:00 AM\n",
        ",,,,,,,,\n")
f:close()

local t = tally.read_csv(path)
local types = {}
for _, c in ipairs(t:schema()) do types[c.name] = c.type end
assert(types.slash_ts == "timestamp" and types.us == "date" and types.iso_z == "timestamp")
assert(types.ambiguous == "date" and types.named == "string" and types.offset == "timestamp")
assert(types.bad == "string" and types.dots == "date" and types.pm == "timestamp")
assert(t[1].slash_ts == "2015-01-01T01:00:00" and t[2].slash_ts == "2015-12-31T23:59:59")
assert(t[1].us == "2015-01-31" and t[2].us == "2016-02-29")
assert(t[1].iso_z == "2015-01-01T10:00:00" and t[2].iso_z == "2015-01-01T10:00:00")
assert(t[1].ambiguous == "2015-01-02" and t[2].ambiguous == "2015-03-04")   -- month first
assert(t[1].offset == "2015-01-01T08:00:00" and t[2].offset == "2015-01-01T00:00:00")
assert(t[1].dots == "1999-12-31" and t[1].pm == "2015-01-01T13:30:00" and t[2].pm == "2015-01-01T00:00:00")
assert(t[3].us == nil and t[3].slash_ts == nil)

-- dateformat settles the order; a column's own format reads names
local u = tally.read_csv(path, { dateformat = "%d/%m/%Y", types = { named = "date:%b %d %Y" } })
assert(u[1].ambiguous == "2015-02-01" and u[2].ambiguous == "2015-04-03")
assert(u:col("us"):type() == "string")   -- 01/31/2015 is no day/month/year
assert(u[1].named == "2015-01-05" and u[2].named == "2016-02-29" and u[3].named == nil)
local v = tally.read_csv(path, { timestampformat = "%Y/%m/%d %H:%M:%S", columns = { "slash_ts", "pm" } })
assert(v:col("slash_ts"):type() == "timestamp" and v:col("pm"):type() == "string")

check_error("value is not of the forced type date: near \"Jan 05 2015\"",
            function() return tally.read_csv(path, { types = { named = "date:%d %b %Y" } }) end)
check_error("value is not of the forced type date",
            function() return tally.read_csv(path, { types = { bad = "date" } }) end)
check_error("option 'dateformat' must be a strptime format",
            function() return tally.read_csv(path, { dateformat = 1 }) end)
os.remove(path)
print("test_csv_dates: ok")
