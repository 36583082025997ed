-- Short-circuit evaluation seen from Lua: the right side of `and` runs only
-- on the rows where the left side is true, that of `or` where it is not, a
-- branch of if() on its own rows. A function written in Lua counts its calls.
-- Run from the repository root: tally tests/lua/test_expr_shortcircuit.lua

local tally = require "tally"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

-- x from 1 to n with every 10th null, g cycling through 0..4
local n = 10000
local xs, gs = {}, {}
for i = 1, n do
  xs[i] = i % 10 == 0 and tally.null or i
  gs[i] = i % 5
end
local t = tally.from_columns{ { "x", xs }, { "g", gs } }

local calls = 0
tally.func{ name = "counted", type = "bool",
            fn = function(x) calls = calls + 1; return x % 3 == 0 end }

local function rows_where(pred)
  local k = 0
  for i = 1, n do if xs[i] ~= tally.null and pred(xs[i], gs[i]) then k = k + 1 end end
  return k
end

-- and: counted runs only where x > 5
calls = 0
local f = t:filter("x > 5 and counted(x)")
assert(calls == rows_where(function(x) return x > 5 end), calls)
local g = t:filter(function(r) return r.x ~= nil and r.x > 5 and r.x % 3 == 0 end)
assert(#f == #g and #f > 0)
for i = 1, #f do assert(f[i].x == g[i].x) end

-- or: counted runs only where x > 5 is not true (null x is not passed)
calls = 0
f = t:filter("x <= 5 or counted(x)")
assert(calls == rows_where(function(x) return x > 5 end), calls)
assert(#f == rows_where(function(x) return x <= 5 or x % 3 == 0 end))

-- a chain: the second test narrows the rows of the third
calls = 0
f = t:filter("g == 1 and x > 5000 and counted(x)")
assert(calls == rows_where(function(x, gv) return gv == 1 and x > 5000 end), calls)
assert(#f == rows_where(function(x, gv) return gv == 1 and x > 5000 and x % 3 == 0 end))

-- if(): each branch on its own rows
calls = 0
local m = t:mutate("c = if(x > 9000, counted(x), null)")
assert(calls == rows_where(function(x) return x > 9000 end), calls)
for i = 1, #m do
  local x = m[i].x
  if x ~= nil and x > 9000 then assert(m[i].c == (x % 3 == 0)) else assert(m[i].c == nil) end
end

-- mutate keeps three-valued logic: null and-ed with false is false
m = t:mutate("c = x > 5 and counted(x)")
for i = 1, #m do
  local x = m[i].x
  if x == nil then assert(m[i].c == nil)
  elseif x <= 5 then assert(m[i].c == false)
  else assert(m[i].c == (x % 3 == 0)) end
end

-- a function that fails where the left side excludes its rows
tally.func{ name = "picky", type = "bool",
            fn = function(x) if x <= 5 then error("picky: too small: " .. x) end return true end }
assert(#t:filter("x > 5 and picky(x)") == rows_where(function(x) return x > 5 end))
assert(#t:filter("x <= 5 or picky(x)") == rows_where(function() return true end))
check_error("too small", t.filter, t, "picky(x) and x > 5")

-- constants fold away: the same rows as without them
assert(#t:filter("x > 2000 + 3000") == #t:filter("x > 5000"))
assert(#t:filter("x > 5 and 1 > 2") == 0)
assert(#t:filter("x > 5 or 2 > 1") == n)
assert(#t:filter("if(1 > 2, x < 0, x > 5)") == rows_where(function(x) return x > 5 end))
check_error("integer overflow in '+' at row 1", t.filter, t, "x + (9223372036854775807 + 1) > 0")

print("test_expr_shortcircuit: ok")
