-- The aggregates of the everyday library (corr covar regr_slope regr_intercept
-- mode arg_min arg_max count_if bool_and bool_or product string_agg): DuckDB's
-- answers (tests/data/everyday/duckdb_answers.lua, written by the .js beside it)
-- on 1 and 4 threads, through partial states encoded to bytes and merged in
-- order (as MPI ranks do), and their type errors.
-- Run from the repository root: tally tests/lua/test_aggregates2.lua

local tally = require "tally"
local testing = require "tally.testing"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

local function same(a, b)
  if a == tally.null or b == tally.null or a == nil or b == nil then
    return (a == nil or a == tally.null) and (b == nil or b == tally.null)
  end
  if math.type(a) == "float" or math.type(b) == "float" then
    if a ~= a or b ~= b then return a ~= a and b ~= b end
    return math.abs(a - b) <= 1e-9 * math.max(1, math.abs(a), math.abs(b))
  end
  return a == b
end

local N = tally.null
local ans = dofile("tests/data/everyday/duckdb_answers.lua")(N).agg
local t = tally.from_columns{ { "g", ans.g }, { "x", ans.x }, { "y", ans.y }, { "w", ans.w },
                              { "b", ans.b }, { "p", ans.p } }
assert(#t == 300)

local defs = {}
for k, c in ipairs(ans.cases) do defs[k] = "v" .. k .. " = " .. c[1] end

local function check(r, how)
  assert(#r == 5, how)
  for k, c in ipairs(ans.cases) do
    local want = c[2]
    for i = 1, #r do
      assert(r[i].g == want[2 * i - 1], how)
      local got, exp = r[i]["v" .. k], want[2 * i]
      assert(same(got, exp), string.format("%s: %s, group %s: %s, DuckDB %s", how, c[1], r[i].g,
                                           tostring(got), tostring(exp)))
    end
  end
end

for _, threads in ipairs{ 1, 4 } do
  tally.threads(threads)
  check(t:group_by("g"):agg(table.unpack(defs)):sort("g"), threads .. " threads")
end
-- through encoded partial states, merged in order: parts of 1, 7, 92 and 200 rows
local parts = { t:slice(1, 1), t:slice(2, 8), t:slice(9, 100), t:slice(101, 300) }
check(testing.partial_agg(parts, { "g" }, table.unpack(defs)):sort("g"), "partials")
local whole = t:agg(table.unpack(defs))
local merged = testing.partial_agg(parts, nil, table.unpack(defs))
for k = 1, #defs do
  assert(same(whole[1]["v" .. k], merged[1]["v" .. k]), defs[k])
end

-- small cases: ties, nulls, NaN, empty groups
local s = tally.from_columns{ { "k", { 1, 1, 1, 1, 2, 2 } }, { "v", { "b", "a", "a", "b", N, N } },
                              { "n", { 2.0, 0/0, 1.0, 1.0, N, 3.0 } }, { "c", { true, false, N, true, N, N } } }
local r = s:group_by("k"):agg("m = mode(v)", "lo = arg_min(v, n)", "hi = arg_max(v, n)",
                              "ci = count_if(c)", "ba = bool_and(c)", "bo = bool_or(c)",
                              "sa = string_agg(v, '')", "p = product(n)", "c = corr(n, n)")
assert(r[1].m == "b")            -- b and a twice each: b came first
assert(r[1].lo == "a" and r[1].hi == "a")   -- NaN is above every number: arg_max is its row
assert(r[1].ci == 2 and r[1].ba == false and r[1].bo == true)
assert(r[1].sa == "baab")
assert(r[1].p ~= r[1].p)         -- NaN in the product
assert(r[2].m == nil and r[2].lo == nil and r[2].ci == nil and r[2].ba == nil and r[2].sa == nil)
assert(r[2].p == 3.0)
assert(r[2].c ~= r[2].c)         -- one pair: NaN, as DuckDB
local one = tally.from_columns{ { "x", { 1.0, 2.0, 3.0 } }, { "y", { 2.0, 4.0, 6.5 } } }
local o = one:agg("c = covar(x, y)", "s = regr_slope(y, x)", "i = regr_intercept(y, x)", "r = corr(x, y)")
assert(same(o[1].c, 2.25) and same(o[1].s, 2.25) and same(o[1].i, -0.3333333333333333))
assert(o[1].r > 0.99 and o[1].r <= 1)

-- errors, before any row is read
check_error("corr needs numbers, found string", function() return t:agg("corr(w, x)") end)
check_error("count_if needs a condition (a bool), found int", function() return t:agg("count_if(x)") end)
check_error("string_agg of int values", function() return t:agg("string_agg(x)") end)
check_error("string_agg's separator must be a constant text", function() return t:agg("string_agg(w, w)") end)
check_error("arg_min orders by bool values", function() return t:agg("arg_min(x, b)") end)
check_error("wrong number of arguments to 'corr' (1 given)", function() return t:agg("corr(x)") end)
check_error("aggregate 'mode' outside of agg", function() return t:filter("mode(x) > 1") end)
print("test_aggregates2: ok")
