-- A scan's external sort in very small rooms: sort and top plans over a
-- generated table, its CSV and its Parquet file, under memory limits from a
-- few kilobytes past what is in use, with batches down to one row, on 1 and 3
-- threads. Each run writes its rows (write_csv streams what the merge hands
-- out, so that the result itself is not held) and must equal the in-memory
-- verbs' file byte for byte, the stable sort's order included; collect() is
-- checked too where the room holds the result. A room too small even for a
-- batch and a row of each run fails with the out-of-memory error, which then
-- says so. After every run, a good one, one that ran out of memory or one
-- whose spill writes failed (a full disk, injected), no spill file is open.
-- Run from the repository root: tally tests/lua/test_scan_sort_room.lua

local tally = require "tally"
local testing = require "tally.testing"

local check = require "tests.lua.scan_check"
local same = check.same

local dir = check.tempdir()
local function path(name) return dir .. "/" .. name end

-- The spill files this process has open: spill files are unlinked when made,
-- so the descriptors are what is left of them.
local pid = assert(io.open("/proc/self/stat")):read("l"):match("^(%d+)")
local function open_spills()
  local p = assert(io.popen("ls -l /proc/" .. pid .. "/fd 2>/dev/null"))
  local n = 0
  for line in p:lines() do
    if line:find("tally-spill-", 1, true) then n = n + 1 end
  end
  p:close()
  return n
end
assert(open_spills() == 0)

local words = { "alpha", "beta", "", "gamma, with a comma", "delta", "Beta", "zeta" }

-- n rows: i (the row), k (few ints: long runs of ties), g (strings), x
-- (floats with NaN), y (ints), d (dates); nulls in all but i.
local function gen(n, seed)
  math.randomseed(seed)
  local c = { i = {}, k = {}, g = {}, x = {}, y = {}, d = {} }
  local function maybe(v) return math.random(9) == 1 and tally.null or v end
  for r = 1, n do
    c.i[r] = r
    c.k[r] = maybe(math.random(-2, 2))
    c.g[r] = maybe(words[math.random(#words)])
    c.x[r] = maybe(math.random(20) == 1 and 0 / 0 or math.random(-400, 400) / 4)
    c.y[r] = maybe(math.random(-100000, 100000))
    c.d[r] = maybe(string.format("2021-%02d-%02d", math.random(12), math.random(28)))
  end
  return tally.from_columns{ { "i", c.i }, { "k", c.k }, { "g", c.g }, { "x", c.x },
                             { "y", c.y }, { "d", c.d } }
    :mutate("k = int(k)", "g = string(g)", "x = float(x)", "y = int(y)", "d = date(d)")
end

local types = { i = "int", k = "int", g = "string", x = "float", y = "int", d = "date" }
local N = 3000
local t = gen(N, 7)
t:write_csv(path("t.csv"))
t:write_parquet(path("t.parquet"), { row_group_size = 500 })
-- Each source with the room (per worker) it takes, besides the plan's: a CSV
-- scan's reader, or a Parquet one's, takes some hundred kilobytes of its own,
-- whatever the batch.
local sources = {
  { "table", function() return tally.scan(t) end, 0 },
  { "csv", function() return tally.scan(path("t.csv"), { types = types }) end, 768 << 10 },
  { "parquet", function() return tally.scan(path("t.parquet")) end, 384 << 10 },
}

-- Each plan with the smallest room it is run in (per worker, with the
-- source's): a filter's evaluation takes
-- some hundred kilobytes per worker of its own, whatever the batch.
local plans = {
  { "sort(k)", function(s) return s:sort("k") end, 96 << 10 },
  { "sort(-x, g)", function(s) return s:sort("-x", "g") end, 96 << 10 },
  { "sort(g, -d, k)", function(s) return s:sort("g", "-d", "k") end, 96 << 10 },
  -- (its result is held, then written: the room holds it; every column a key,
  -- so that it is not the late top, which does not spill)
  { "sort(-y, every column):head(2500)", function(s)
      return s:sort("-y", "i", "k", "g", "x", "d"):head(2500) end, 1 << 20 },
  { "filter:sort(-k)", function(s) return s:filter("y > -50000"):sort("-k") end, 1 << 20 },
  -- (a filter before it, so that the top is not the late one, which does not spill)
  { "filter:top(2000, k, -y)", function(s) return s:filter("i > 0"):top(2000, "k", "-y") end,
    1 << 20 },
}

-- The in-memory verbs' rows as write_csv writes them.
local function text_of(x)
  local p = path("want.csv")
  x:write_csv(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  os.remove(p)
  return s
end
local wants = {}
for j, p in ipairs(plans) do wants[j] = { t = p[2](t), text = text_of(p[2](t)) } end

-- A limit `bytes` past what is in use.
local function room(bytes)
  collectgarbage()
  collectgarbage()
  tally.memory_limit(0)
  local _, used = tally.memory_limit()
  tally.memory_limit(used + bytes)
end

-- Runs plan j over source src under `bytes` of room: ok and the spill blocks
-- it wrote, or false and the error.
local function run(j, src, bytes, knobs, how)
  local q = plans[j][2](src[2]())
  local out = path("got.csv")
  os.remove(out)
  local before = testing.spill_blocks()
  room(bytes)
  local ok, err = pcall(testing.with, knobs, function()
    if how == "collect" then return q:collect() end
    q:write_csv(out)
  end)
  tally.memory_limit(0)
  assert(open_spills() == 0, "a spill file still open after " .. plans[j][1])
  if not ok then
    assert(not io.open(out), "an output file left after an error")
    return false, tostring(err)
  end
  if how == "collect" then return true, testing.spill_blocks() - before, err end
  local f = assert(io.open(out, "rb"))
  local s = f:read("a")
  f:close()
  os.remove(out)
  return true, testing.spill_blocks() - before, s
end

-- Every plan over every source in small rooms, batches of 1 and 7 rows
-- (CSV: morsels of 64 and 700 bytes), on 1 and 3 threads: the result is the
-- in-memory one, and the sort spilled (in the rooms of 192 kB and less, every
-- time).
local knob_sets = {
  { batch_rows = 1, morsel_bytes = 64 },
  { batch_rows = 7, morsel_bytes = 700 },
}
local spilled, runs = 0, 0
for _, threads in ipairs({ 1, 3 }) do
  tally.threads(threads)
  for _, bytes in ipairs({ 96 << 10, 192 << 10, 512 << 10, 1 << 20, 3 << 20 }) do
    for _, knobs in ipairs(knob_sets) do
      for _, src in ipairs(sources) do
        for j, p in ipairs(plans) do if bytes >= (p[3] + src[3]) * threads then
          local what = string.format("%s over %s, room %d, batch_rows %d, %d threads", p[1],
                                     src[1], bytes, knobs.batch_rows, threads)
          local ok, blocks, text = run(j, src, bytes, knobs)
          assert(ok, what .. ": " .. tostring(blocks))
          assert(text == wants[j].text, what .. ": the rows differ from the in-memory verbs'")
          runs = runs + 1
          assert(blocks > 0 or bytes > 192 << 10, what .. ": no spill")
          if blocks > 0 then spilled = spilled + 1 end
        end end
      end
    end
  end
end
assert(spilled >= runs * 3 // 4, string.format("only %d of %d runs spilled", spilled, runs))

-- collect(): the result is held, so the room holds it (and its copy); the
-- sorts still spill
for _, threads in ipairs({ 1, 3 }) do
  tally.threads(threads)
  for _, src in ipairs(sources) do
    for j, p in ipairs(plans) do
      local what = string.format("%s over %s collected, %d threads", p[1], src[1], threads)
      local bytes = (p[3] + src[3]) * threads + (384 << 10)
      local ok, blocks, got = run(j, src, bytes, { batch_rows = 5, morsel_bytes = 300 },
                                  "collect")
      assert(ok, what .. ": " .. tostring(blocks))
      assert(blocks > 0 or p[3] > 96 << 10, what .. ": no spill")   -- the plain sorts
      same(got, wants[j].t, what)
    end
  end
end

-- a batch larger than the room: out of memory, and the message says what
-- the sort could not fit
tally.threads(1)
do
  local ok, err = run(1, sources[1], 48 << 10, { batch_rows = N })
  assert(not ok, "a batch of " .. N .. " rows sorted in 48 kB")
  assert(err:find("out of memory (memory limit ", 1, true), err)
  assert(err:find("too small for the external sort", 1, true), err)
end

-- every spill write failing in turn (the disk full): the error names the
-- temporary file, no output and no spill file is left; then the run succeeds
for _, threads in ipairs({ 1, 3 }) do
  tally.threads(threads)
  local failures, k = 0, 0
  while true do
    k = k + (k < 40 and 1 or 37)   -- the first ones, then every 37th
    testing.spill_fail(k)
    local ok, err, text = run(2, sources[1], 192 << 10, { batch_rows = 4 })
    testing.spill_fail(0)
    if ok then
      assert(text == wants[2].text, "after the failures")
      break
    end
    failures = failures + 1
    assert(err:find("cannot write the temporary file", 1, true)
           and err:find("No space left on device", 1, true), err)
  end
  assert(failures > 0)
end

tally.threads(0)
os.execute("rm -rf '" .. dir .. "'")
print(string.format("test_scan_sort_room: ok (%d runs under small rooms)", runs))
