-- Table files: a loaded file maps by default; a file changed in place after
-- the load is an error naming it at the next operation (not a signal), and
-- { map = false } copies it, so the same change does not matter.

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error")
  assert(string.find(tostring(err), msg, 1, true), "unexpected error: " .. tostring(err))
end

local path = os.tmpname()
local n = 5000
local xs, ss = {}, {}
for i = 1, n do xs[i] = i; ss[i] = "s" .. (i % 7) end
tally.from_columns{ {"x", xs}, {"s", ss} }:save(path)

local function truncate()
  local f = assert(io.open(path, "w"))   -- truncates the same file in place
  f:close()
end

-- mapped: every kind of operation refuses once the file is truncated
local t = tally.load(path)
assert(t:agg("n = sum(x)"):col("n")[1] == n * (n + 1) // 2)
local c = t:col("x")
truncate()
local changed = "table file '" .. path .. "' changed since it was loaded"
check_error("agg: " .. changed, t.agg, t, "n = sum(x)")
check_error("filter: " .. changed, t.filter, t, "x > 10")
check_error("sort: " .. changed, t.sort, t, "-x")
check_error("group_by: " .. changed, t.group_by, t, "s")
check_error(changed, print, t)
check_error(changed, tostring, t)
check_error(changed, c.sum, c)
check_error(changed, function() return c[1] end)
check_error(changed, function() return t[1].x end)
check_error("save: " .. changed, t.save, t, path .. ".again")
check_error(changed .. " (" , t.mutate, t, "y = x * 2")   -- says how it changed
t, c = nil, nil
collectgarbage()

-- written in place with other bytes of the same size: the time changes
tally.from_columns{ {"x", xs}, {"s", ss} }:save(path)
t = tally.load(path)
local f = assert(io.open(path, "r+b"))
local size = f:seek("end")
f:seek("set", 0)
f:write(string.rep("\0", size))
f:close()
check_error(changed .. " (it was written to)", t.filter, t, "x > 10")
t = nil
collectgarbage()

-- replaced by a save (a rename): the mapping keeps the old file, no error
tally.from_columns{ {"x", xs}, {"s", ss} }:save(path)
t = tally.load(path)
tally.from_columns{ {"x", {1, 2}} }:save(path)
assert(#t:filter("x > 10") == n - 10)
assert(#tally.load(path) == 2)
t = nil
collectgarbage()

-- copied: the same truncation changes nothing
tally.from_columns{ {"x", xs}, {"s", ss} }:save(path)
t = tally.load(path, { map = false })
truncate()
assert(t:agg("n = sum(x)"):col("n")[1] == n * (n + 1) // 2)
assert(#t:filter("x > 10") == n - 10)
assert(t:col("s")[8] == "s1" and t[3].x == 3)
assert(tostring(t):find("s6", 1, true))
check_error("load: unknown option 'mpa' (did you mean 'map'?)", tally.load, path, { mpa = false })
check_error("load: option 'map' must be a boolean, got number", tally.load, path, { map = 0 })
check_error("load: an option name must be a string, not a number", tally.load, path, { false })
os.remove(path)
os.remove(path .. ".again")
print("test_store: ok")
