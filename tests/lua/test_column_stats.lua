-- Column statistics: median, quantile, stddev, var, count_distinct.
-- Run from the repository root: tally tests/lua/test_column_stats.lua

local tally = require "tally"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

local t = tally.from_columns{ { "x", { 1, 2, 3, 4, tally.null } },
                              { "s", { "a", "b", "a", tally.null, "c" } } }
local x, s = t.x, t.s
assert(x:median() == 2.5)
assert(x:quantile(0.25) == 1.75)
assert(x:quantile(0) == 1.0 and x:quantile(1) == 4.0)
assert(x:var() == 1.6666666666666667)
assert(math.abs(x:stddev() - math.sqrt(5 / 3)) < 1e-15)
assert(x:count_distinct() == 4 and s:count_distinct() == 3)

-- no values: null
local e = tally.from_columns{ { "y", { tally.null, tally.null } } }:col("y")
local one = tally.from_columns{ { "y", { 5 } } }.y
assert(one:median() == 5.0 and one:var() == nil and one:stddev() == nil)
assert(e:count_distinct() == 0)

-- the seed: participants over the 30 program-years with a course
local p = tally.read_csv("data/jica_training.csv").participants
assert(p:median() == 13.5)
assert(p:count_distinct() == 14)

check_error("median: column 's' is string, not a number", s.median, s)
check_error("quantile: column 's' is string, not a number", s.quantile, s, 0.5)
check_error("(a number between 0 and 1)", x.quantile, x, 1.5)
check_error("number expected, got no value", x.quantile, x)

print("test_column_stats: ok")
