-- A top over Parquet files materialized late: the key columns of every row
-- group read first, the survivors' rows read again at the end from the row
-- groups that hold them. On generated files (row groups down to one row,
-- nulls and NaN in the keys, few distinct values so that the top meets ties,
-- several files by glob and one whose key column is int where the others'
-- is float), with batches down to one row, on 1 and 3 threads, each top
-- (and each sort followed by a head) must equal the in-memory verbs on the
-- files read whole, ties in file order; explain() says `late` where it runs.
-- Run from the repository root: tally tests/lua/test_scan_late_parquet.lua

local tally = require "tally"
local testing = require "tally.testing"

local check = require "tests.lua.scan_check"
local same = check.same

local dir = check.tempdir()
local function path(name) return dir .. "/" .. name end

local words = { "alpha", "beta", "", "b", "été", "zeta" }

-- n rows: k (few ints, nulls), g (strings, nulls), x (floats of few values,
-- NaN, nulls), y (ints, ties), d (dates), ok (bool), i (the row, from i0).
local function gen(n, seed, i0)
  math.randomseed(seed)
  local k, g, x, y, d, ok, i = {}, {}, {}, {}, {}, {}, {}
  for r = 1, n do
    k[r] = math.random(6) == 1 and tally.null or math.random(0, 4)
    g[r] = math.random(7) == 1 and tally.null or words[math.random(#words)]
    local u = math.random(10)
    x[r] = u == 1 and tally.null or u == 2 and 0 / 0 or math.random(0, 12) / 2
    y[r] = math.random(5) == 1 and tally.null or math.random(-20, 20)
    d[r] = string.format("2020-%02d-%02d", math.random(1, 12), math.random(1, 28))
    ok[r] = math.random(3) == 1 and tally.null or math.random(2) == 1
    i[r] = (i0 or 0) + r
  end
  return tally.from_columns{ { "k", k }, { "g", g }, { "x", x }, { "y", y }, { "d", d },
                             { "ok", ok }, { "i", i } }
    :mutate("k = int(k)", "g = string(g)", "x = float(x)", "y = int(y)", "d = date(d)",
            "ok = bool(ok)")
end

local tops = {
  { "top -x", function(s) return s:top(7, "-x") end, true },
  { "top x", function(s) return s:top(1, "x") end, true },
  { "top k,-x", function(s) return s:top(12, "k", "-x") end, true },
  { "top -y,g", function(s) return s:top(5, "-y", "g") end, true },
  { "top d", function(s) return s:top(30, "d") end, true },
  { "top -ok,y", function(s) return s:top(9, "-ok", "y") end, true },
  { "top all", function(s) return s:top(4096, "-x") end, true },
  { "top then sort", function(s) return s:top(9, "-x"):sort("y") end, true },
  { "sort head", function(s) return s:sort("-y", "x"):head(6) end, true },
  { "sort head 1", function(s) return s:sort("g"):head(1) end, true },
  { "sort head head", function(s) return s:sort("x"):head(20):head(3) end, true },
  -- not late: more rows than it keeps, or keys that are every column read
  { "top 5000", function(s) return s:top(5000, "y") end, false },
  { "select top", function(s) return s:select("x", "y"):top(3, "x", "-y") end, false },
}

local knob_sets = { {}, { batch_rows = 1 }, { batch_rows = 5 } }

-- Each top over source src equals its verbs on want (the files read whole).
local function check_source(src, want, what)
  for _, p in ipairs(tops) do
    local e = p[2](tally.scan(src)):explain()
    assert((e:find("late:", 1, true) ~= nil) == p[3], what .. ": " .. p[1] .. ": " .. e)
  end
  for _, threads in ipairs({ 1, 3 }) do
    tally.threads(threads)
    for _, knobs in ipairs(knob_sets) do
      for _, p in ipairs(tops) do
        local got = testing.with(knobs, function() return p[2](tally.scan(src)):collect() end)
        same(got, p[2](want), string.format("%s: %s (batch_rows %s, %d threads)", what, p[1],
                                            tostring(knobs.batch_rows or "default"), threads))
      end
    end
  end
  tally.threads(0)
end

-- one file at several row group sizes
for seed = 1, 2 do
  local t = gen(seed == 1 and 40 or 700, seed)
  for _, group in ipairs({ 1, 7, 100, 100000 }) do
    local p = path(string.format("one-%d-%d.parquet", seed, group))
    t:write_parquet(p, { row_group_size = group })
    local back = tally.read_parquet(p)
    same(back, t, "the file reads back")
    check_source(p, back, string.format("seed %d, row groups of %d", seed, group))
    os.remove(p)
  end
end

-- several files by glob, the second holding x as int (widened to float)
do
  os.execute("mkdir -p '" .. path("many") .. "'")
  local parts = { gen(300, 11, 0), gen(250, 12, 300), gen(5, 13, 550), gen(400, 14, 555) }
  parts[2] = parts[2]:mutate("x = try_cast(floor(x), 'int')")   -- NaN: null
  for j, t in ipairs(parts) do
    t:write_parquet(path(string.format("many/part-%d.parquet", j)),
                    { row_group_size = ({ 64, 1000, 2, 33 })[j] })
  end
  local want = tally.read_parquet(path("many/part-1.parquet"))
  for j = 2, #parts do
    want = want:concat(tally.read_parquet(path(string.format("many/part-%d.parquet", j)))
                           :mutate("x = float(x)"))
  end
  assert(#want == 955 and want:col("x"):type() == "float")
  check_source(path("many/*.parquet"), want, "glob of 4 files")
end

-- files of no rows: no survivors, the empty result of the scan's columns
do
  local t = gen(10, 21):head(0)
  local p = path("empty.parquet")
  t:write_parquet(p)
  local got = tally.scan(p):top(3, "-x"):collect()
  assert(#got == 0 and got:ncol() == t:ncol(), "an empty file's top")
  os.remove(p)
end

os.execute("rm -rf '" .. dir .. "'")
print("test_scan_late_parquet: ok")
