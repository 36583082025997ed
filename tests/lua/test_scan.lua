-- Lazy scans: every verb of tally.scan(...):collect() against the in-memory
-- verbs on generated CSV files and tables, at batch sizes down to one row
-- (the morsel_bytes and batch_rows knobs of tally.testing) on 1 and 3 threads; the
-- plan shown by explain(); several files; and the errors.
-- Run from the repository root: tally tests/lua/test_scan.lua

local tally = require "tally"
local testing = require "tally.testing"

local check = require "tests.lua.scan_check"
local check_error, same = check.check_error, check.same

local function tmpname()
  local p = os.tmpname()
  os.remove(p)
  return p .. ".csv"
end

-- 'a 5" disk' is written as it is: a '"' inside an unquoted field
local words = { "alpha", "beta", "gamma, with a comma", 'say "hi"', "delta\nline", "",
                'a 5" disk' }

-- A CSV of n rows: k (int, few values), g (string, nulls), x (float), y
-- (int, nulls), d (date).
local function gen(n, seed)
  math.randomseed(seed)
  local out = { "k,g,x,y,d" }
  for i = 1, n do
    local g = words[math.random(#words)]
    if g == "" or g == 'a 5" disk' then g = g elseif g:find('[,"\n]') then g = '"' .. g:gsub('"', '""') .. '"' end
    local y = math.random(5) == 1 and "" or tostring(math.random(-50, 50))
    out[#out + 1] = string.format("%d,%s,%.3f,%s,2020-01-%02d", math.random(0, 4), g,
                                  math.random() * 100 - 20, y, math.random(1, 28))
  end
  local p = tmpname()
  local f = assert(io.open(p, "wb"))
  f:write(table.concat(out, "\n"), "\n")
  f:close()
  return p
end

local types = { k = "int", g = "string", x = "float", y = "int", d = "date" }

-- Each plan as a function of a scan or a table (the verbs are the same).
local plans = {
  { "collect", function(s) return s end },
  { "filter", function(s) return s:filter("x > 10 and k != 2") end },
  { "mutate", function(s) return s:mutate("z = x * 2 + k", "w = upper(g)") end },
  { "select", function(s) return s:select("x", "k") end },
  { "drop", function(s) return s:drop("g", "d") end },
  { "rename", function(s) return s:rename{ x = "xx" }:filter("xx < 50") end },
  { "pushdown", function(s) return s:mutate("z = y * 3"):filter("k >= 1"):select("z", "k") end },
  -- a column replaced, its old values not read: it keeps its place
  { "replace", function(s) return s:mutate("x = k * 2", "z = 1") end },
  { "replace, then top", function(s) return s:mutate("g = upper(g)"):top(5, "x") end },
  { "group_by", function(s)
      return s:filter("x > 0"):group_by("k", "g"):agg("n = count()", "s = sum(x)",
        "m = mean(y)", "lo = min(g)", "f = first(x)", "l = last(y)", "c = count(y)")
    end },
  { "agg", function(s) return s:agg("n = count()", "s = sum(y)", "hi = max(x)") end },
  { "head", function(s) return s:filter("k == 1"):head(7) end },
  { "top", function(s) return s:top(9, "-y", "k") end },
  { "distinct", function(s) return s:distinct("k", "g") end },
  { "sort", function(s) return s:sort("g", "-x") end },
  { "after", function(s) return s:group_by("k"):agg("n = count()"):filter("n > 1") end },
}

local function check_all(path, n, knobs, threads)
  tally.threads(threads)
  local t = tally.read_csv(path, { types = types })
  assert(#t == n)
  for _, p in ipairs(plans) do
    local got = testing.with(knobs, function()
      return p[2](tally.scan(path, { types = types })):collect()
    end)
    local want = p[2](t)
    same(got, want, string.format("%s (%s, %d threads)", p[1], next(knobs) or "default", threads))
    -- the same plan over the in-memory table as the source
    local got2 = testing.with({ batch_rows = knobs.morsel_bytes and 1 or 3 }, function()
      return p[2](tally.scan(t)):collect()
    end)
    same(got2, want, p[1] .. " over a table")
  end
end

do
  local path = gen(300, 7)
  for _, threads in ipairs({ 1, 3 }) do
    check_all(path, 300, {}, threads)
    for _, mb in ipairs({ 64, 1000 }) do
      check_all(path, 300, { morsel_bytes = mb }, threads)
    end
  end
  local small = gen(25, 11)   -- a morsel a byte: most hold no record start
  for _, threads in ipairs({ 1, 3 }) do check_all(small, 25, { morsel_bytes = 1 }, threads) end
  os.remove(small)
  -- inferred types (no `types`): the sample is the whole small file
  local s = tally.scan(path):group_by("k"):agg("n = count()", "s = sum(x)")
  same(s:collect(), tally.read_csv(path):group_by("k"):agg("n = count()", "s = sum(x)"), "inferred")
  os.remove(path)
end

-- explain: columns read, filters pushed, folded constants -------------------
do
  local path = gen(50, 3)
  local s = tally.scan(path, { types = types })
  local e = s:mutate("z = y * 3"):filter("k >= 1"):filter("1 < 2"):group_by("k"):agg("s = sum(z)")
      :explain()
  assert(e:find("columns read: 2 of 5: k, y", 1, true), e)
  assert(e:find("filters pushed into the scan:\n    k >= 1", 1, true), e)
  assert(not e:find("1 < 2", 1, true), e)            -- folded to true: gone
  assert(e:find("agg by k", 1, true), e)
  local none = s:filter("1 > 2")
  assert(none:explain():find("always false", 1, true))
  assert(#none:collect() == 0 and none:collect():ncol() == 5)
  assert(s:sort("x"):explain():find("materializes", 1, true))
  -- write_csv streams the plan into a file that reads back the same
  local out = tmpname()
  s:filter("x > 5"):select("k", "g", "x"):write_csv(out)
  same(tally.read_csv(out, { types = { k = "int", g = "string", x = "float" } }),
       tally.read_csv(path, { types = types }):filter("x > 5"):select("k", "g", "x"), "write_csv")
  os.remove(out)
  os.remove(path)
end

-- several files: one schema, int widening to float, mismatches named --------
do
  local a, b, c = tmpname(), tmpname(), tmpname()
  local function put(p, s) local f = assert(io.open(p, "wb")); f:write(s); f:close() end
  put(a, "id,v\n1,10\n2,20\n")
  put(b, "id,v\n3,1.5\n4,2\n")
  put(c, "id,w\n5,1\n")
  local t = tally.scan({ a, b }):collect()
  assert(#t == 4 and t.v:type() == "float" and t.v[2] == 20 and t.v[3] == 1.5)
  check_error("column 2 is 'w', but 'v' in " .. a, tally.scan, { a, c })
  put(c, "id,v\n5,x\n")
  check_error(c .. ": column 'v' is string, but", tally.scan, { a, c })
  local dir = a:match("^(.*)/")
  check_error("scan: no file matches", tally.scan, dir .. "/no-such-*.csv")
  os.remove(a); os.remove(b); os.remove(c)
end

-- errors: a bad record mid-file as read_csv names it, options, columns ------
do
  local lines = { "a,b" }
  for i = 1, 2000 do lines[#lines + 1] = i .. "," .. (i * 2) end
  lines[1501] = "1500,oops"
  local p = tmpname()
  local f = assert(io.open(p, "wb")); f:write(table.concat(lines, "\n"), "\n"); f:close()
  local ok, want = pcall(tally.read_csv, p, { types = { a = "int", b = "int" } })
  assert(not ok)
  for _, mb in ipairs({ 0, 1, 100, 4096 }) do
    local ok2, got = pcall(testing.with, { morsel_bytes = mb }, function()
      return tally.scan(p, { types = { a = "int", b = "int" } }):collect()
    end)
    assert(not ok2 and tostring(got):find(tostring(want), 1, true),
           "morsel " .. mb .. ": " .. tostring(got) .. " vs " .. tostring(want))
  end
  -- inferred from a sample before the bad value: the message says how to fix it
  check_error("give them in 'types'", function()
    return tally.scan(p, { sample_bytes = 100 }):collect()
  end)
  check_error("scan: unknown option 'morsel_byte'", tally.scan, p, { morsel_byte = 1 })
  check_error("unknown column 'c'", function() return tally.scan(p):filter("c > 1") end)
  check_error("unknown column 'c'", function() return tally.scan(p):select("c") end)
  check_error("group_by: unknown column 'bb'", function() return tally.scan(p):group_by("bb") end)
  check_error("unknown column 'c'", function() return tally.scan(p):group_by("a"):agg("sum(c)") end)
  os.remove(p)
end

-- memory_limit: the env's limit, read back ----------------------------------
do
  local was = tally.memory_limit(1 << 40)
  assert(tally.memory_limit() == 1 << 40)
  -- a limit too small for anything: the error names it
  local t = tally.from_columns{ { "a", { 1, 2 } } }
  tally.memory_limit(1)
  local ok, err = pcall(tally.scan, t)
  tally.memory_limit(was)
  assert(not ok and tostring(err):find("out of memory (memory limit 1 bytes)", 1, true), err)
end

print("test_scan: ok")
