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
local s, a = t:to_arrow()
assert(type(s) == "userdata" and type(a) == "userdata" and s ~= a)
local u = tally.from_arrow(s, a)
assert(#u == 4 and u:ncol() == 4)
for _, name in ipairs(t:names()) do
  local c, d = t:col(name), u:col(name)
  assert(c:type() == d:type() and c:nulls() == d:nulls(), name)
  for i = 1, #c do assert(c[i] == d[i], name .. " row " .. i) end
end
-- taken once: the structs are released (moved) by the import
check_error("import_arrow: the schema or array is released", tally.from_arrow, s, a)

-- a derived table goes out and back in too
local v = u:mutate("d = if(i > 2, '2024-02-29', '1970-01-01')")
local w = tally.from_arrow(v:to_arrow())
assert(w:col("d")[1] == v:col("d")[1])

-- an export never taken is released with the state (or by the collector)
do local _ = t:to_arrow() end
collectgarbage()

check_error("ArrowSchema address", tally.from_arrow, 1, 2)
check_error("ArrowSchema address", t.to_arrow, t, "x", "y")
print("test_arrow: ok")
