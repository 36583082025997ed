-- Arrow interchange from Lua: t:to_arrow() and tally.from_arrow.

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error")
  assert(string.find(err, msg, 1, true), "unexpected error: " .. tostring(err))
end

local t = tally.from_columns{
  {"b", {true, false, nil, true}},
  {"i", {1, nil, 3, 4}},
  {"f", {1.5, 2.5, nil, -0.5}},
  {"s", {"x", "yy", nil, ""}},
}
local x = t:to_arrow()
assert(type(x) == "userdata" and select("#", t:to_arrow()) == 1)
assert(tostring(x) == "tally.Arrow (4 rows, 4 columns)", tostring(x))
local u = tally.from_arrow(x)
assert(#u == 4 and u:ncol() == 4)
for _, name in ipairs(t:names()) do
  local c, d = t:col(name), u:col(name)
  assert(c:type() == d:type() and c:nulls() == d:nulls(), name)
  for i = 1, #c do assert(c[i] == d[i], name .. " row " .. i) end
end
-- taken once: the import consumed it
assert(tostring(x) == "tally.Arrow (consumed: imported by from_arrow)", tostring(x))
check_error("from_arrow: this tally.Arrow was already consumed (imported by from_arrow)",
            tally.from_arrow, x)
check_error("release_to_host: this tally.Arrow was already consumed", x.release_to_host, x)

-- the old use-after-free: import, collect, import again. The second import
-- is an error, and nothing dangles (run under the ASan build).
do
  local s, a = t:to_arrow()
  assert(a == nil)
  local v = tally.from_arrow(s, a)
  collectgarbage() collectgarbage()
  check_error("already consumed (imported by from_arrow)", tally.from_arrow, s, a)
  assert(#v == 4)
  -- exporting into addresses from Lua is gone: it wrote into freed memory
  check_error("to_arrow: takes no arguments", t.to_arrow, t, s, a)
end

-- a derived table goes out and back in too
local v = u:mutate("d = if(i > 2, '2024-02-29', '1970-01-01')")
local w = tally.from_arrow(v:to_arrow())
assert(w:col("d")[1] == v:col("d")[1])
u, v = nil, nil
collectgarbage()
assert(w:col("s")[2] == "yy")   -- the imported columns keep the exported buffers

-- closed (to-be-closed variable) or collected without being taken: released
local y = t:to_arrow()
do local z <close> = y end
check_error("already consumed (released by close)", tally.from_arrow, y)
assert(getmetatable(y).__gc(y) == nil)   -- the finalizer again: nothing to do
do local _ = t:to_arrow() end
collectgarbage()

-- wrong arguments are errors; an export waits until it is imported
local bad = tally.from_columns{ {"n", {1, 2}} }:to_arrow()
check_error("tally.Arrow (from t:to_arrow()) expected, got table", tally.from_arrow, {})
check_error("tally.Arrow", tally.from_arrow, 1, 2)
check_error("tally.Arrow (from t:to_arrow()) expected, got no value", tally.from_arrow)
assert(#tally.from_arrow(bad) == 2)
print("test_arrow: ok")
