-- Scans past the memory limit: a group_by with many groups, a sort, a
-- distinct, a top and a group_by followed by a sort or a top run under a
-- limit small enough that they spill to the temporary directory, compared
-- with the in-memory verbs on a generated CSV, on 1 and 3 threads;
-- explain() names the steps that may spill; every spill write failing in
-- turn is an error that leaves no file. Also the default limit.
-- Run from the repository root: tally tests/lua/test_scan_spill.lua

local tally = require "tally"
local testing = require "tally.testing"
local check = require "tests.lua.scan_check"

-- The default limit: 80% of the machine's memory, or of the cgroup's ----------
local limit = tally.memory_limit()
do
  local f = assert(io.open("/proc/meminfo"))
  local ram = tonumber(f:read("a"):match("MemTotal:%s*(%d+) kB")) * 1024
  f:close()
  f = io.open("/sys/fs/cgroup/memory.max")
  local cg = f and tonumber(f:read("l") or "")
  if f then f:close() end
  if cg and cg < ram then ram = cg end
  if not os.getenv("TALLY_MEMORY_LIMIT") then
    assert(limit > 0 and limit <= 0.8 * ram + 1 and limit >= 0.4 * ram,
           string.format("default limit %d, memory %d", limit, ram))
  end
  assert(tally.memory_limit(0) == limit and tally.memory_limit() == 0)   -- 0: none
  assert(tally.memory_limit(limit) == 0 and tally.memory_limit() == limit)
  -- an in-memory verb past the limit: the error names it and how to raise it
  collectgarbage()
  local _, used = tally.memory_limit()
  tally.memory_limit(used + 4096)
  local ok, err = pcall(check.check_error, "out of memory (memory limit " .. (used + 4096)
                        .. " bytes): raise it with memory_limit or TALLY_MEMORY_LIMIT",
                        tally.read_csv, "tests/lua/test_scan_spill.lua")
  tally.memory_limit(limit)
  assert(ok, err)
end

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
  local was = tally.memory_limit(0)
  assert(not g:explain():find("may spill", 1, true))   -- no limit: nothing spills
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

-- distinct, top, and a grouping's result ordered by a sort or a top --------
-- (each spills: the spill blocks written grow; its result equals memory's,
-- and so does what its write_csv writes)
local cases = {
  { "distinct(id, w)", function(x) return x:distinct("id", "w") end, 8 },
  { "distinct()", function(x) return x:distinct() end, 16 },
  { "top(50000, w, -v)", function(x) return x:top(50000, "w", "-v") end, 6 },
  { "group_by:agg:sort", function(x)
      return x:group_by("id"):agg("n = count()", "f = first(w)", "j = string_agg(k, ',')")
              :sort("f", "-n") end, 12 },
  { "group_by:agg:top", function(x)
      return x:group_by("id"):agg("n = count()", "f = first(w)", "j = string_agg(k, ',')")
              :top(500, "-n", "f") end, 9 },
}
local function room(mb)
  collectgarbage()
  collectgarbage()
  tally.memory_limit(0)
  local _, used = tally.memory_limit()
  tally.memory_limit(used + mb * 1024 * 1024)
end
-- smaller batches than above: the batches in flight (a partial per
-- partition each) take little of these rooms, however the threads are timed
testing.set{ morsel_bytes = 50000 }
for _, threads in ipairs({ 1, 3 }) do
  tally.threads(threads)
  for _, c in ipairs(cases) do
    local what = c[1] .. ", " .. threads .. " threads"
    local want = c[2](t)
    local q = c[2](tally.scan(path, { types = types }))
    room(c[3])
    assert(q:explain():find("may spill past the memory limit", 1, true), what)
    local before = testing.spill_blocks()
    local ok, got = pcall(q.collect, q)
    assert(ok, what .. ": " .. tostring(got))
    assert(testing.spill_blocks() > before, what .. ": no spill")
    same(got, want, what)
    got = nil
    local out = tmpname()
    room(c[3])
    before = testing.spill_blocks()
    q:write_csv(out)
    assert(testing.spill_blocks() > before, what .. " to csv: no spill")
    tally.memory_limit(0)
    local wpath = tmpname()
    want:write_csv(wpath)
    local a, b = io.open(out, "rb"), io.open(wpath, "rb")
    assert(a:read("a") == b:read("a"), what .. ": write_csv differs from the table's")
    a:close(); b:close()
    os.remove(out); os.remove(wpath)
  end
end

-- a few long strings among many short ones (1 row in 1000 of 100 kB): a
-- sort by them gathers them in the same blocks of its runs and chunks of its
-- merge, which are cut by their bytes, not by rows of the mean size, so the
-- sort still fits a room of 4 MB (it failed out of memory at 6 MB when they
-- were not); what it writes is the in-memory sort's
do
  local lpath = tmpname()
  local f = assert(io.open(lpath, "wb"))
  f:write("id,s\n")
  for i = 1, 60000 do
    f:write(i, ",", i % 1000 == 0 and string.rep("b", 100000) .. i or "w" .. (i * 7919) % 1000,
            "\n")
  end
  f:close()
  local ltypes = { id = "int", s = "string" }
  for _, threads in ipairs({ 1, 3 }) do
    tally.threads(threads)
    for _, keys in ipairs({ { "-s", "id" }, { "s", "-id" } }) do
      local what = "long strings, sort(" .. table.concat(keys, ", ") .. "), " .. threads .. " threads"
      local q = tally.scan(lpath, { types = ltypes }):sort(table.unpack(keys))
      local out, wpath = tmpname(), tmpname()
      room(4)
      local before = testing.spill_blocks()
      local ok, err = pcall(q.write_csv, q, out)
      tally.memory_limit(0)
      assert(ok, what .. ": " .. tostring(err))
      assert(testing.spill_blocks() > before, what .. ": no spill")
      tally.read_csv(lpath, { types = ltypes }):sort(table.unpack(keys)):write_csv(wpath)
      local a, b = io.open(out, "rb"), io.open(wpath, "rb")
      assert(a:read("a") == b:read("a"), what .. ": write_csv differs from the table's")
      a:close(); b:close()
      os.remove(out); os.remove(wpath)
    end
  end
  os.remove(lpath)
end

-- a top of wide rows (42 columns) past a quarter of a 4 MB room goes to the
-- external sort with the rows it holds: the sort's blocks are cut from the
-- bytes those rows hold, not from the bytes in use since it began (which did
-- not count them: its merge of 1821-row blocks failed out of memory)
do
  local wpath = tmpname()
  local f = assert(io.open(wpath, "wb"))
  local row = { "id", "g" }
  for j = 1, 40 do row[j + 2] = "c" .. j end
  f:write(table.concat(row, ","), "\n")
  for i = 1, 40000 do
    row[1], row[2] = i, i % 11 - 5
    for j = 1, 40 do row[j + 2] = (i * j) % 997 end
    f:write(table.concat(row, ","), "\n")
  end
  f:close()
  local want = tally.read_csv(wpath):top(3000, "-(g*2)", "-id")
  for _, threads in ipairs({ 1, 3 }) do
    tally.threads(threads)
    local what = "wide top, " .. threads .. " threads"
    local q = tally.scan(wpath):top(3000, "-(g*2)", "-id")
    room(4)
    local before = testing.spill_blocks()
    local ok, got = pcall(q.collect, q)
    tally.memory_limit(0)
    assert(ok, what .. ": " .. tostring(got))
    assert(testing.spill_blocks() > before, what .. ": no spill")
    same(got, want, what)
  end
  os.remove(wpath)
end

-- every spill write failing in turn: an error naming the temporary file,
-- no output file left; then the run succeeds
do
  tally.threads(3)
  local c = cases[4]
  local q = c[2](tally.scan(path, { types = types }))
  local out = tmpname()
  local failures = 0
  for k = 1, 10000 do
    room(c[3])
    testing.spill_fail(k)
    local ok, err = pcall(q.write_csv, q, out)
    testing.spill_fail(0)
    if ok then break end
    failures = failures + 1
    assert(tostring(err):find("cannot write the temporary file", 1, true)
           and tostring(err):find("No space left on device", 1, true), tostring(err))
    assert(not io.open(out), "an output file left after an error")
  end
  assert(failures > 0)
  tally.memory_limit(0)
  local want = c[2](t)
  same(tally.read_csv(out, { types = { id = "int", n = "int", f = "string", j = "string" } }),
       want, "after the failures")
  os.remove(out)
end
-- collect() of a plain scan: in 4 times its result's size (the batches in
-- flight, the reader's buffers, the result) it runs; in its size it fails,
-- naming collect and the way out
do
  tally.threads(3)
  tally.memory_limit(0)
  collectgarbage()
  collectgarbage()
  local _, used0 = tally.memory_limit()
  local u = tally.read_csv(path, { types = types })
  local _, used1 = tally.memory_limit()
  local size = used1 - used0
  u = nil
  collectgarbage()
  collectgarbage()
  local _, used = tally.memory_limit()
  tally.memory_limit(used + 4 * size)
  same(tally.scan(path, { types = types }):collect(), t, "collect in 4x its size")
  collectgarbage()
  collectgarbage()
  tally.memory_limit(0)
  _, used = tally.memory_limit()
  tally.memory_limit(used + size)
  local ok, err = pcall(function() return tally.scan(path, { types = types }):collect() end)
  assert(not ok and tostring(err):find("collect: out of memory (memory limit", 1, true)
         and tostring(err):find("collect() holds every row of the result", 1, true), tostring(err))
end

-- a sort with the default read size under a small limit (600 k rows, 6.6 MB
-- of text, in a 20 MB room): the morsels read shrink with the room, so the
-- batches in flight leave the sort's runs their share, and it is the
-- in-memory sort's, on 1 and 3 threads
do
  local opath = tmpname()
  local f = assert(io.open(opath, "wb"))
  f:write("id,s\n")
  for i = 1, 600000 do f:write(i, ",w", (i * 7919) % 100003, "\n") end
  f:close()
  testing.set{ morsel_bytes = 0 }
  tally.memory_limit(0)
  local want = tally.read_csv(opath):sort("-s")
  for _, threads in ipairs{ 1, 3 } do
    tally.threads(threads)
    room(20)
    local out = tmpname()
    tally.scan(opath):sort("-s"):write_csv(out)
    tally.memory_limit(0)
    same(tally.read_csv(out), want, "sort in a 20 MB room, default morsels, " .. threads .. " threads")
    os.remove(out)
  end
  -- morsels of 4 MiB forced: each takes more than a quarter of the room once
  -- read; the error names the step, not the table function it failed in, and
  -- no output file is left
  testing.set{ morsel_bytes = 4 << 20 }
  tally.threads(1)
  room(20)
  local out = tmpname()
  local ok, err = pcall(function() return tally.scan(opath):sort("-s"):write_csv(out) end)
  tally.memory_limit(0)
  testing.set{ morsel_bytes = 0 }
  assert(not ok and tostring(err):find("sort: out of memory (memory limit ", 1, true), tostring(err))
  assert(not io.open(out), "an output file left after an error")
  os.remove(opath)
end

tally.memory_limit(limit)
os.remove(path)
print("test_scan_spill: ok")
