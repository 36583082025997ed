-- scan_check.lua -- what the scan tests share: an expected error, two tables
-- equal in names, types and values, and a fresh temporary directory. Floats compare to a relative
-- 1e-9, as merged partial sums may differ in the last bits; NaN equals NaN.
-- Loaded from the repository root: require "tests.lua.scan_check".

local M = {}

-- Calls f(...), which must fail with an error containing msg; returns it.
function M.check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
  return err
end

-- A new empty directory under the system's temporary one; its path.
function M.tempdir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p '" .. dir .. "'"))
  return dir
end

function M.same(a, b, what)
  assert(a:ncol() == b:ncol(), what .. ": columns " .. a:ncol() .. " vs " .. b:ncol())
  assert(#a == #b, what .. ": rows " .. #a .. " vs " .. #b)
  local na, nb = a:names(), b:names()
  for j = 1, #na do
    assert(na[j] == nb[j], what .. ": name " .. j .. ": " .. na[j] .. " vs " .. nb[j])
    local ca, cb = a[na[j]], b[nb[j]]
    assert(ca:type() == cb:type(), what .. ": type of " .. na[j])
    for i = 1, #a do
      local x, y = ca[i], cb[i]
      if type(x) == "number" and type(y) == "number" and math.type(x) == "float" then
        assert((x ~= x and y ~= y) or x == y or
               math.abs(x - y) <= 1e-9 * math.max(1, math.abs(x)),
               string.format("%s: %s row %d: %.17g vs %.17g", what, na[j], i, x, y))
      else
        assert(x == y, string.format("%s: %s row %d: %s vs %s", what, na[j], i,
                                     tostring(x), tostring(y)))
      end
    end
  end
end

return M
