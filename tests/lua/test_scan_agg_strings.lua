-- Aggregates of strings over a lazy scan of many small batches: min, max,
-- first, last, mode, arg_min, arg_max (strings as values and as the `by`),
-- count_distinct and string_agg, grouped and over the whole file, on 1 and
-- 3 threads, against the same verbs on the file read in memory; and the
-- scan of a few of them runs under a memory limit well below the strings of
-- the file, which states that kept every batch's strings alive would pass.
-- Run from the repository root: tally tests/lua/test_scan_agg_strings.lua

local tally = require "tally"
local testing = require "tally.testing"

local check = require "tests.lua.scan_check"
local same = check.same

local path = os.tmpname()
os.remove(path)
path = path .. ".csv"

-- k: 9 groups and nulls; v: ints and nulls; s: long strings, nearly all
-- distinct, some empty, some null; t: long strings of 200 values, some
-- empty, some null.
math.randomseed(7)
local rows = { "k,v,s,t" }
local strings = 0
for i = 1, 200000 do
  local r = math.random(1000000)
  local k = r % 10 == 0 and "" or tostring(r % 9)
  local v = r % 13 == 0 and "" or tostring(math.random(-30000, 30000))
  local s = r % 11 == 0 and "" or r % 11 == 1 and '""' or
            string.format("row %06d of a long string that a batch holds as number %d", r % 999983, i)
  local t = r % 7 == 0 and "" or r % 7 == 1 and '""' or
            string.format("one of two hundred values that repeat as value %03d", r % 200)
  strings = strings + #s + #t
  rows[#rows + 1] = table.concat({ k, v, s, t }, ",")
end
local f = assert(io.open(path, "wb"))
f:write(table.concat(rows, "\n"), "\n")
f:close()
rows = nil
collectgarbage()
assert(strings > 15000000)

local types = { k = "int", v = "int", s = "string", t = "string" }
local t = tally.read_csv(path, { types = types })
local c = t:agg("e = count_if(s == '')", "n = count_if(is_null(s))")
assert(c.e[1] > 0 and c.n[1] > 0, "the file has empty and null strings")

local picks = { "mn = min(s)", "mx = max(s)", "f = first(s)", "l = last(s)",
                "am = arg_min(s, v)", "ax = arg_max(s, v)", "bv = arg_max(v, s)",
                "bt = arg_min(t, s)", "ft = first(t)", "lt = last(t)", "mt = mode(t)",
                "ct = count_distinct(t)" }
local all = { "mn = min(s)", "ms = mode(s)", "sa = string_agg(t, '/')", "cs = count_distinct(s)" }
-- a few strings a group: run under a memory limit as well
local bounded = { "mn = min(s)", "ft = first(t)", "bv = arg_max(v, s)", "mt = mode(t)" }
local want = {}
for name, defs in pairs({ picks = picks, all = all, bounded = bounded }) do
  want[name] = t:agg(table.unpack(defs))
  want[name .. "_k"] = t:group_by("k"):agg(table.unpack(defs))
end
t = nil
collectgarbage()

testing.set{ morsel_bytes = 65536 }   -- some 250 batches
local was = tally.memory_limit()
for _, threads in ipairs({ 1, 3 }) do
  tally.threads(threads)
  local s = tally.scan(path, { types = types })
  local what = threads .. " threads"
  for _, name in ipairs({ "picks", "all" }) do
    local defs = name == "picks" and picks or all
    same(s:agg(table.unpack(defs)):collect(), want[name], name .. ", " .. what)
    same(s:group_by("k"):agg(table.unpack(defs)):collect(), want[name .. "_k"],
         name .. " by k, " .. what)
  end
  -- 10 MB is room enough for the batches in flight and these states, and
  -- far less than the file's strings, which a state keeping every batch
  -- would hold
  collectgarbage()
  collectgarbage()
  local _, used = tally.memory_limit()
  tally.memory_limit(used + 10 * 1000 * 1000)
  local ok, got = pcall(function() return s:agg(table.unpack(bounded)):collect() end)
  local ok_k, got_k = pcall(function()
    return s:group_by("k"):agg(table.unpack(bounded)):collect()
  end)
  tally.memory_limit(was)
  assert(ok, tostring(got))
  assert(ok_k, tostring(got_k))
  same(got, want.bounded, "bounded, " .. what)
  same(got_k, want.bounded_k, "bounded by k, " .. what)
end
testing.set{ morsel_bytes = 0 }
tally.threads(1)
os.remove(path)
print("scan_agg_strings: ok")
