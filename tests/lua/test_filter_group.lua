-- A filter followed by group_by: the filter's rows stay a selection and the grouped
-- aggregation reads them in place (fused), which must give exactly what grouping the
-- filtered table gives (unfused: the table taken first, through a mask column), on
-- random data with nulls and NaN, for filters that keep every row, some or none, with
-- 1 and 3 threads and several range sizes (a child process per TALLY_RANGE_ROWS).
-- Sums and counts are also checked against plain Lua loops.
-- Run from the repository root: tally tests/lua/test_filter_group.lua

local tally = require "tally"

local function write_data(path, n)
  local f = assert(io.open(path, "w"))
  f:write("k,r,i,f,b,d,s\n")
  local x = 4242
  local function rnd() x = (x * 1103515245 + 12345) % 2147483648; return x >> 8 end
  local words = { "apple", "pear", "", "kiwi", "fig" }
  for _ = 1, n do
    local a, b, c, e, g = rnd(), rnd(), rnd(), rnd(), rnd()
    local k = a % 13 == 0 and "" or "k" .. (a % 7)
    local r = b % 17 == 0 and "" or tostring(b % 5)
    local i = c % 11 == 0 and "" or tostring((c % 2001) - 1000)
    local fv = e % 19 == 0 and "nan" or (e % 7 == 0 and "" or string.format("%.3f", ((e % 5000) - 2500) / 7))
    local bv = g % 5 == 0 and "" or (g % 2 == 0 and "true" or "false")
    local d = string.format("2020-%02d-%02d", 1 + a % 12, 1 + b % 28)
    local s = c % 9 == 0 and "" or words[1 + e % #words] .. (g % 3)
    f:write(k, ",", r, ",", i, ",", fv, ",", bv, ",", d, ",", s, "\n")
  end
  f:close()
end

-- A table as lines of text: floats to every digit, NaN and nulls spelled out.
local function lines(t)
  local names, out = t:names(), {}
  for i = 1, #t do
    local row = {}
    for j, name in ipairs(names) do
      local v = t:col(name)[i]
      if v == nil or v == tally.null then v = "null"
      elseif math.type(v) == "float" then v = v ~= v and "nan" or string.format("%.17g", v)
      else v = tostring(v) end
      row[j] = v
    end
    out[i] = table.concat(row, "|")
  end
  return out
end

local function same(a, b, what)
  local la, lb = lines(a), lines(b)
  assert(#la == #lb, string.format("%s: %d rows fused, %d unfused", what, #la, #lb))
  for k = 1, #la do
    assert(la[k] == lb[k], string.format("%s, row %d:\nfused   %s\nunfused %s", what, k, la[k], lb[k]))
  end
  assert(table.concat(a:names(), ",") == table.concat(b:names(), ","), what .. ": names differ")
end

local FILTERS = {
  "i >= 0 and r != 2",       -- some rows
  "f > 100",                 -- NaN and nulls drop out
  "i > 100000",              -- no row
  "d >= '2020-01-01'",       -- every row
  "k == 'k3' or b",          -- a dictionary key
}
local KEYS = { { "k" }, { "r" }, { "k", "r" }, { "b", "r" }, { "i % 3" } }
-- gathered: built-in kernels over columns of fixed width (ints, floats, bools, dates)
local GATHERED = {
  "n = count()", "ni = count(i)", "si = sum(i)", "sf = sum(f)", "mf = mean(f)",
  "lo = min(i)", "hi = max(f)", "dmax = max(d)", "v = var(f)", "sd = stddev(f)",
  "q = quantile(i, 0.9)", "med = median(f)", "cd = count_distinct(i)", "fi = first(i)",
  "la = last(f)", "c = corr(i, f)", "am = arg_max(i, f)", "sb = sum(b)", "ba = bool_and(b)",
  "ci = count_if(b)", "p = product(r)", "mo = mode(r)",
}
-- taken: what the scan cannot gather reads the filtered columns it needs
local TAKEN = {
  "n = count()", "cs = count_distinct(s)", "ms = max(s)", "e = mean(f * 2)",
  "g = geo(i)", "si = sum(i)", "sa = string_agg(s, ';')",
}

tally.aggregate{
  name = "geo", type = "float", init = 0,
  step = function(st, x) return st + x end,
  merge = function(a, b) return a + b end,
}

local function check_all(t)
  for _, threads in ipairs{ 1, 3 } do
    tally.threads(threads)
    for _, p in ipairs(FILTERS) do
      local mask = t:mutate("m_ = " .. p):col("m_")
      local taken = t:filter(mask)          -- a table of its own: the unfused way
      for _, keys in ipairs(KEYS) do
        for _, defs in ipairs{ GATHERED, TAKEN } do
          local what = string.format("%d threads, filter %q, keys %s, %s", threads, p,
                                     table.concat(keys, ","), defs[2])
          local fused = t:filter(p):group_by(table.unpack(keys)):agg(table.unpack(defs))
          local unfused = taken:group_by(table.unpack(keys)):agg(table.unpack(defs))
          same(fused, unfused, what)
        end
      end
      -- a grouping of a selection: its groups, their rows and their count
      local g, h = t:filter(p):group_by("k", "r"), taken:group_by("k", "r")
      assert(#g == #h, p .. ": group counts differ")
      local subs = {}   -- groups come in order of first appearance in both
      for _, sub in h:groups() do subs[#subs + 1] = sub; if #subs == 4 then break end end
      local k = 0
      for _, sub in g:groups() do
        k = k + 1
        if k > #subs then break end
        same(sub, subs[k], p .. ": the rows of group " .. k)
      end
    end
  end
  tally.threads(0)
end

-- plain Lua loops: count() and sum(i) per k over the rows where i >= 0 and r != 2
local function check_loops(t)
  local K, I, R = t:col("k"), t:col("i"), t:col("r")
  local cnt, sum = {}, {}
  for row = 1, #t do
    local i, r = I[row], R[row]
    if i ~= nil and i ~= tally.null and i >= 0 and r ~= nil and r ~= tally.null and r ~= 2 then
      local k = K[row]
      if k == nil or k == tally.null then k = "<null>" end
      cnt[k] = (cnt[k] or 0) + 1
      sum[k] = (sum[k] or 0) + i
    end
  end
  local res = t:filter("i >= 0 and r != 2"):group_by("k"):agg("n = count()", "s = sum(i)")
  local seen = 0
  for row = 1, #res do
    local k = res:col("k")[row]
    if k == nil or k == tally.null then k = "<null>" end
    assert(res:col("n")[row] == cnt[k], "count of " .. k)
    assert(res:col("s")[row] == sum[k], "sum of " .. k)
    seen = seen + 1
  end
  local want = 0
  for _ in pairs(cnt) do want = want + 1 end
  assert(seen == want, "groups: " .. seen .. " against " .. want)
end

local mode, path = arg[1], arg[2]
if mode == "child" then
  check_all(tally.read_csv(path))
  os.exit(0)
end

local data = os.tmpname()
write_data(data, 150000)
local t = tally.read_csv(data)
assert(t:col("k"):type() == "string" and t:col("d"):type() == "date" and t:col("b"):type() == "bool")
check_loops(t)
check_all(t)
-- a filter's table read as a table is the filtered table
local u = t:filter("i >= 0 and r != 2")
assert(#u == #t:filter(t:mutate("m_ = i >= 0 and r != 2"):col("m_")))
same(u:head(50), t:filter(t:mutate("m_ = i >= 0 and r != 2"):col("m_")):head(50), "head")
-- an empty table, and a filter that keeps nothing of it
local e = t:head(0)
assert(#e:filter("i > 0"):group_by("k"):agg("n = count()", "s = sum(i)") == 0)

-- small ranges: many ranges of selected rows, merged in order
local exe = os.getenv("TALLY_BUILD_DIR") and (os.getenv("TALLY_BUILD_DIR") .. "/tally") or arg[-1]
local small = os.tmpname()
write_data(small, 5000)
for _, range in ipairs{ "1", "97" } do
  local cmd = string.format("TALLY_RANGE_ROWS=%s %q tests/lua/test_filter_group.lua child %q",
                            range, exe, small)
  assert(os.execute(cmd), "child failed: " .. cmd)
end
os.remove(data)
os.remove(small)
print("test_filter_group: ok")
