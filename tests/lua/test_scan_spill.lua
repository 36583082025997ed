-- Scans past the memory limit: a group_by with many groups and a sort run
-- under a limit small enough that they spill to the temporary directory,
-- compared with the in-memory verbs on a generated CSV, on 1 and 3
-- threads; explain() names the steps that may spill.
-- Run from the repository root: tally tests/lua/test_scan_spill.lua

local tally = require "tally"

local function same(a, b, what)
  assert(a:ncol() == b:ncol() and #a == #b, what .. ": shape")
  local na = a:names()
  for j = 1, #na do
    assert(na[j] == b:names()[j], what .. ": name " .. j)
    local ca, cb = a[na[j]], b[na[j]]
    for i = 1, #a do
      assert(ca[i] == cb[i], string.format("%s: %s row %d: %s vs %s", what, na[j], i,
                                           tostring(ca[i]), tostring(cb[i])))
    end
  end
end

local function tmpname()
  local p = os.tmpname()
  os.remove(p)
  return p .. ".csv"
end

local path = tmpname()
math.randomseed(21)
local rows = { "id,k,v,w" }
local words = { "alpha", "beta", "gamma", "", "delta" }
for i = 1, 120000 do
  local v = math.random(6) == 1 and "" or tostring(math.random(-500, 500))
  rows[#rows + 1] = string.format("%d,k%d,%s,%s", math.random(0, 40000), math.random(0, 300), v,
                                  words[math.random(#words)])
end
local f = assert(io.open(path, "wb"))
f:write(table.concat(rows, "\n"), "\n")
f:close()
rows = nil
collectgarbage()

local types = { id = "int", k = "string", v = "int", w = "string" }
local t = tally.read_csv(path, { types = types })
local defs = { "n = count()", "s = sum(v)", "lo = min(k)", "f = first(w)", "l = last(v)",
               "m = mean(v)", "j = string_agg(w, '/')" }
local want_g = t:group_by("id"):agg(table.unpack(defs))
local want_s = t:sort("w", "-v")

require("tally.testing").set{ morsel_bytes = 200000 }   -- many morsels, so many batches
for _, threads in ipairs({ 1, 3 }) do
  tally.threads(threads)
  local s = tally.scan(path, { types = types })
  local g = s:group_by("id"):agg(table.unpack(defs))
  local o = s:sort("w", "-v")
  assert(not g:explain():find("may spill", 1, true))   -- no limit: nothing spills
  local was = tally.memory_limit()
  -- 24 MB past what is in use now: measured again before each run, once the
  -- collector has freed the results of the runs before it
  local function room()
    collectgarbage()
    collectgarbage()
    local _, used = tally.memory_limit()
    tally.memory_limit(used + 24 * 1024 * 1024)
  end
  room()
  local e = g:explain()
  assert(e:find("may spill past the memory limit", 1, true) and e:find("partitioned by key hash", 1, true), e)
  assert(o:explain():find("sorted runs", 1, true))
  room()
  same(g:collect(), want_g, "group_by, " .. threads .. " threads")
  room()
  same(o:collect(), want_s, "sort, " .. threads .. " threads")
  -- write_csv of a sort writes the merged runs as they come
  local out = tmpname()
  room()
  o:write_csv(out)
  same(tally.read_csv(out, { types = types }), want_s, "sort to csv")
  os.remove(out)
  tally.memory_limit(was)
end
os.remove(path)
print("test_scan_spill: ok")
