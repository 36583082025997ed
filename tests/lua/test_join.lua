-- t:join on the seed data and small tables.
-- Run from the repository root: tally tests/lua/test_join.lua

local tally = require "tally"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

local d = tally.read_csv("data/jdr_dispatches.csv")
local regions = tally.from_columns{
  { "country", { "Iran", "Taiwan", "Nepal", "Mexico", "Chile" } },
  { "region", { "Middle East", "Asia", "Asia", "Americas", "Americas" } },
}

-- inner: the rows of d whose country has a region, in d's order
local j = d:join(regions, { on = "country" })
assert(j:ncol() == 5 and j:names()[5] == "region")
assert(#j == 5, #j)   -- Iran, Taiwan x2, Nepal, Mexico
assert(j[1].country == "Iran" and j[1].region == "Middle East")
assert(j[2].country == "Taiwan" and j[2].date == "1999-09-01")
assert(j[5].country == "Taiwan" and j[5].date == "2018-02-01")

-- left keeps every row of d, with nulls where nothing matched
local l = d:join(regions, { on = "country", how = "left" })
assert(#l == 16 and l[2].region == nil and l[2].country == "Philippines")
assert(l.region:count() == 5)

-- right and full add the right rows without a match, with their key
local r = d:join(regions, { on = "country", how = "right" })
assert(#r == 6 and r[6].country == "Chile" and r[6].persons == nil)
local f = d:join(regions, { on = "country", how = "full" })
assert(#f == 17 and f[17].country == "Chile")

-- semi and anti keep d's columns only
local s = d:join(regions, { on = "country", how = "semi" })
assert(#s == 5 and s:ncol() == 4)
local a = d:join(regions, { on = "country", how = "anti" })
assert(#a == 11 and a[1].country == "Philippines")

-- different key names, clashing columns and suffixes
local t = tally.from_columns{ { "k", { 1, 2, 2 } }, { "v", { "a", "b", "c" } } }
local u = tally.from_columns{ { "key", { 2, 3 } }, { "v", { "x", "y" } } }
local tu = t:join(u, { on = { left = "k", right = "key" }, suffix = { "_t", "_u" } })
assert(#tu == 2 and tu:names()[2] == "v_t" and tu:names()[4] == "v_u")
assert(tu[1].v_t == "b" and tu[2].v_t == "c" and tu[2].v_u == "x")
local tv = t:join(u, { on = { left = "k", right = "key" } })
assert(tv:names()[2] == "v" and tv:names()[4] == "v_right")

-- null keys never match
local n1 = tally.from_columns{ { "k", { 1, tally.null, 3 } } }
local n2 = tally.from_columns{ { "k", { tally.null, 1 } }, { "w", { "null", "one" } } }
local nn = n1:join(n2, { on = "k", how = "left" })
assert(#nn == 3 and nn[1].w == "one" and nn[2].w == nil)

-- several keys
local p = tally.read_csv("data/jica_training.csv")
local q = p:group_by("program", "year"):agg("n = count()")
local pq = p:join(q, { on = { "program", "year" } })
assert(#pq == 40 and pq.n:sum() == 40)

check_error("join: unknown column 'contry' (did you mean 'country'?)",
            function() return d:join(regions, { on = "contry" }) end)
check_error("join: 'how' must be inner, left, right, full, semi or anti",
            function() return d:join(regions, { on = "country", how = "outer" }) end)
check_error("join: key 'persons' is int on the left but 'region' is string on the right",
            function() return d:join(regions, { on = { left = "persons", right = "region" } }) end)
check_error("join: 'on' must be a column name",
            function() return d:join(regions, {}) end)
check_error("bad argument #1 to 'join'", function() return d:join(5, { on = "x" }) end)

print("test_join: ok")
