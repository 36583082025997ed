-- Verbs, grouping and aggregation, saving and loading, column operators.
-- Run from the repository root: tally tests/lua/test_verbs.lua

local tally = require "tally"

-- f(...) must fail with a message containing `msg` (plain text).
local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  assert(string.find(err, msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, err))
end

local function tmpname()
  local p = os.tmpname()
  os.remove(p)
  return p .. ".tly"
end

-- the values of a column as an array, nulls as tally.null
local function values(c)
  return c:totable()
end

local function same_array(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do
    if a[i] ~= b[i] then return false end
  end
  return true
end

local t = tally.read_csv("data/jica_training.csv")      -- 40 rows, participants: 446 over 30
local d = tally.read_csv("data/jdr_dispatches.csv")     -- 16 rows, persons: 290

local programs = {
  "Organization Management for Senior Police Officers", "Community Policing",
  "Control of Drug Offenses", "Counter International Terrorism",
  "Traffic Police Administration", "Countermeasures against Cybercrime",
  "International Crime Investigation", "Criminal Identification",
}

-- filter: expression strings ---------------------------------------------------------
do
  local f = t:filter("year >= 2018")
  assert(#f == 24 and f:ncol() == 4)
  assert(f.year:min() == 2018)
  assert(#t == 40)                                       -- the source is unchanged
  local big = t:filter("participants > 20")
  assert(#big == 7 and big.participants:min() == 21 and big.participants:sum() == 159)
  -- comparisons with null are null, and filter keeps only true
  assert(#t:filter("participants > 20 or participants <= 20") == 30)
  assert(#t:filter("not (participants > 20)") == 23)
  assert(#t:filter("is_null(participants)") == 10)
  assert(#t:filter("year >= 2018 and program == 'Community Policing'") == 3)
  assert(#t:filter("false") == 0)
  assert(#t:filter("true") == 40)
  local q = d:filter("disaster == 'Earthquake'")
  assert(#q == 13 and q.persons:sum() == 250)
  assert(#d:filter("date >= '2000-01-01'") == 10)
end

-- filter: a boolean column
do
  local f = t:filter(t.year:ge(2018))
  assert(#f == 24 and f.year:min() == 2018)
  assert(#t:filter(t.participants:gt(20)) == 7)        -- null mask values drop the row
  assert(#d:filter(d.disaster:eq("Earthquake")) == 13)
end

-- filter: a Lua predicate (truthiness: nil and false drop the row)
do
  local f = t:filter(function(r) return r.year >= 2018 end)
  assert(#f == 24)
  local g = t:filter(function(r) return r.participants and r.participants > 20 end)
  assert(#g == 7 and g.participants:sum() == 159)
  assert(#t:filter(function() return 0 end) == 40)     -- 0 is true in Lua
  assert(#t:filter(function() end) == 0)
  local seen = 0
  t:filter(function(r) seen = seen + 1; assert(r.year == t.year[seen]) end)
  assert(seen == 40)
  check_error("filter: row 5: ", t.filter, t, function(r) return r.participants > 20 end)
  check_error("attempt to compare", t.filter, t, function(r) return r.participants > 20 end)
  check_error("filter: row 12: boom", t.filter, t, function(r)
    if r.program == "Control of Drug Offenses" and r.year == 2017 then error("boom", 0) end
    return true
  end)
  -- closing the table from inside the predicate does not pull it away
  local u = tally.read_csv("data/jdr_dispatches.csv")
  local mt = getmetatable(u)
  local f2 = u:filter(function(r) mt.__close(u); return r.persons > 20 end)
  assert(#f2 == 5 and f2.persons:sum() == 45 + 21 + 43 + 23 + 23)
end

-- filter errors
check_error("filter: unknown column 'yaer' (did you mean 'year'?)", t.filter, t, "yaer >= 2018")
check_error('filter: "year >= 20x8": malformed number \'20x8\' at column 9',
            t.filter, t, "year >= 20x8")
check_error('filter: "program + 1": arithmetic on string and int at column 9',
            t.filter, t, "program + 1")
check_error('filter: "year": the condition is int, not bool', t.filter, t, "year")
check_error("filter: the mask has 16 rows, the table 40", t.filter, t, d.persons:gt(1))
check_error("filter: the mask must be a bool column, not int", t.filter, t, t.year)
check_error("bad argument #1 to 'filter' (string, tally.Column or function expected, got number)",
            function() return t:filter(5) end)
check_error("bad argument #1 to 'filter' (string, tally.Column or function expected, got no value)",
            function() return t:filter() end)

-- mutate ---------------------------------------------------------------------------------
do
  local m = t:mutate("rate = participants / countries", "big = participants > 20")
  assert(#m == 40 and m:ncol() == 6)
  local names = m:names()
  assert(names[5] == "rate" and names[6] == "big")
  assert(m.rate:type() == "float" and m.big:type() == "bool")
  assert(m.rate[1] == 1.0 and m.rate[6] == 1.125)
  assert(m.rate[5] == nil and m.rate:nulls() == 10)
  assert(m.rate[30] == 1.0 and m.rate[35] == 10 / 8)
  assert(m.big:sum() == 7 and m.big:nulls() == 10)
  assert(m.big[13] == true and m.big[1] == false)
  assert(t:ncol() == 4)                                  -- the source is unchanged

  -- a later definition sees the earlier ones; a known name is replaced in place
  local m2 = t:mutate("x = participants * 2", "y = x + 1", "year = year - 2000")
  assert(m2:ncol() == 6 and m2:names()[2] == "year")
  assert(m2[1].x == 22 and m2[1].y == 23 and m2[1].year == 16)
  assert(t[1].year == 2016)

  -- a definition without a name is named after its text
  local m3 = t:mutate("participants + 1")
  assert(m3:names()[5] == "participants_1" and m3.participants_1:sum() == 476)

  -- division and modulo by zero give null
  local z = tally.from_columns{ {"a", {1, 2, 3, 4}}, {"b", {0, 2, tally.null, 0.0}} }
  local q = z:mutate("q = a / b", "i = a // b", "r = a % b")
  assert(q.q[1] == nil and q.q[2] == 1.0 and q.q[3] == nil and q.q[4] == nil)
  assert(q.i[1] == nil and q.i[2] == 1 and q.r[1] == nil and q.r[2] == 0)
  assert(q.q:nulls() == 3)

  -- an empty options table is accepted; the window options are in test_window.lua
  assert(#t:mutate("x = 1", {}) == 40)
  assert(t:mutate()[1].year == 2016)
  check_error("mutate: unknown option 'by'", t.mutate, t, "x = 1", { by = "year" })
end
check_error("mutate: unknown column 'participant' (did you mean 'participants'?)",
            t.mutate, t, "x = participant + 1")
check_error("mutate: ", t.mutate, t, "x = = 1")
check_error("bad argument #1 to 'mutate' (string expected, got boolean)",
            function() return t:mutate(true) end)

-- select, drop, rename ----------------------------------------------------------------------
do
  local s = t:select("year", "program")
  assert(s:ncol() == 2 and #s == 40)
  assert(s:names()[1] == "year" and s:names()[2] == "program")
  assert(same_array(values(s.year), values(t.year)))
  assert(same_array(values(s.program), values(t.program)))
  local s2 = t:select{ "participants" }
  assert(s2:ncol() == 1 and s2.participants:sum() == 446)

  local dr = t:drop("program", "countries")
  assert(dr:ncol() == 2 and dr:names()[1] == "year" and dr:names()[2] == "participants")
  assert(dr.participants:sum() == 446)
  assert(t:drop{ "year" }:ncol() == 3)
  assert(t:drop():ncol() == 4)

  local r = t:rename{ year = "yr", program = "name" }
  assert(r:ncol() == 4)
  local names = r:names()
  assert(names[1] == "name" and names[2] == "yr" and names[3] == "participants")
  assert(r.yr:sum() == t.year:sum() and r.name[6] == "Community Policing")
  assert(t:names()[2] == "year")                        -- the source is unchanged

  -- the verbs share columns: closing the source leaves the results intact
  local u = tally.read_csv("data/jdr_dispatches.csv")
  local a, b, c = u:select("persons"), u:drop("country"), u:rename{ persons = "n" }
  getmetatable(u).__close(u)
  assert(a.persons:sum() == 290 and b.persons:sum() == 290 and c.n:sum() == 290)
end
check_error("select: unknown column 'yaer' (did you mean 'year'?)", t.select, t, "yaer")
check_error("drop: unknown column 'nope'", t.drop, t, "nope")
check_error("rename: unknown column 'yaer' (did you mean 'year'?)", t.rename, t, { yaer = "y" })
-- keys are applied in sorted order, so the first error is always the same
check_error("rename: unknown column 'yy'", t.rename, t, { zz = "a", yy = "b" })
check_error("rename: duplicate column name 'program'", t.rename, t, { year = "program" })
check_error('rename: expected a table { old = "new", ... } of strings', t.rename, t, { year = 1 })
check_error("bad argument #1 to 'rename' (table expected, got string)",
            function() return t:rename("year") end)
check_error("select: entry 2 of the list must be a string, got number", t.select, t, { "year", 2 })
check_error("bad argument #2 to 'select' (string expected, got table)",
            function() return t:select("year", {}) end)

-- group_by and agg -----------------------------------------------------------------------------
local g = t:group_by("program")
assert(#g == 8)
assert(tostring(g) == "Grouping: 8 groups by program")
assert(getmetatable(g).__name == "tally.Grouping")
do
  local a = g:agg("n = count()", "total = sum(participants)", "mean(participants)")
  assert(#a == 8 and a:ncol() == 4)
  local names = a:names()
  assert(names[1] == "program" and names[2] == "n" and names[3] == "total"
         and names[4] == "mean_participants")
  assert(same_array(values(a.program), programs))        -- first appearance order
  assert(same_array(values(a.n), { 5, 5, 5, 5, 5, 5, 5, 5 }))
  assert(same_array(values(a.total), { 49, 52, 88, 87, 21, 81, 48, 20 }))
  assert(math.type(a.total[1]) == "integer")
  assert(same_array(values(a.mean_participants),
                    { 12.25, 13.0, 22.0, 21.75, 10.5, 16.2, 9.6, 10.0 }))
  assert(a.total:sum() == 446)

  local r = g:agg("rate = sum(participants) / sum(countries)", "count(participants)")
  assert(r.rate[1] == 1.0 and r.rate[2] == 52 / 51 and r.rate[3] == 88 / 74)
  assert(r.rate[4] == 87 / 75 and r.rate[6] == 81 / 72 and r.rate[8] == 1.25)
  assert(same_array(values(r.count_participants), { 4, 4, 4, 4, 2, 5, 5, 2 }))

  local c = g:count()
  assert(c:ncol() == 2 and c:names()[2] == "n" and c.n:sum() == 40)

  local k = g:keys()
  assert(#k == 8 and k:ncol() == 1 and same_array(values(k.program), programs))

  -- one definition list as an array works too
  assert(g:agg{ "n = count()" }.n:sum() == 40)
end

-- the whole table as one group
do
  local a = t:agg("total = sum(participants)")
  assert(#a == 1 and a[1].total == 446)
  local b = t:agg("n = count()", "count(participants)", "min(year)", "max(year)",
                  "mean(participants)", "count_distinct(program)")
  assert(b[1].n == 40 and b[1].count_participants == 30)
  assert(b[1].min_year == 2016 and b[1].max_year == 2020)
  assert(b[1].mean_participants == 446 / 30 and b[1].count_distinct_program == 8)
  assert(d:agg("p = sum(persons)")[1].p == 290)
end

-- every aggregate on a small table, by hand
do
  local s = tally.from_columns{
    {"g", {"a", "a", "a", "a", "b", "b", "c"}},
    {"x", {1, 2, 3, 4, tally.null, tally.null, 10}},
    {"s", {"p", "q", "p", "r", tally.null, "z", "y"}},
  }
  local a = s:group_by("g"):agg("q = quantile(x, 0.25)", "median(x)", "min(x)", "max(x)",
                                "count_distinct(s)", "first(x)", "last(x)", "stddev(x)",
                                "var(x)", "sum(x)", "mean(x)", "count(x)", "count()")
  assert(#a == 3)
  local ra, rb, rc = a[1], a[2], a[3]
  assert(ra.g == "a" and rb.g == "b" and rc.g == "c")
  assert(ra.q == 1.75 and ra.median_x == 2.5)
  assert(ra.min_x == 1 and ra.max_x == 4 and math.type(ra.min_x) == "integer")
  assert(ra.count_distinct_s == 3)
  assert(ra.first_x == 1 and ra.last_x == 4)
  assert(ra.var_x == 1.6666666666666667)
  assert(math.abs(ra.stddev_x - math.sqrt(5 / 3)) < 1e-15)
  assert(ra.sum_x == 10 and ra.mean_x == 2.5 and ra.count_x == 4 and ra.count == 4)
  -- a group whose values are all null
  assert(rb.sum_x == nil and rb.mean_x == nil and rb.min_x == nil and rb.max_x == nil)
  assert(rb.median_x == nil and rb.q == nil and rb.var_x == nil)
  assert(rb.count_x == 0 and rb.count == 2 and rb.count_distinct_s == 1)
  -- a single value: the sample variance is null
  assert(rc.q == 10.0 and rc.median_x == 10.0 and rc.var_x == nil and rc.stddev_x == nil)
  assert(rc.sum_x == 10 and rc.first_x == 10)

  local w = s:agg("q = quantile(x, 0.25)", "var(x)", "median(x)")
  assert(w[1].q == 2.0 and w[1].var_x == 12.5 and w[1].median_x == 3.0)
end

-- grouping by two keys, and by a key with nulls
do
  local g2 = d:group_by("country", "disaster")
  assert(#g2 == 15)
  assert(tostring(g2) == "Grouping: 15 groups by country, disaster")
  local a = g2:agg("p = sum(persons)", "n = count()")
  assert(a:ncol() == 4 and a:names()[1] == "country" and a:names()[2] == "disaster")
  assert(a[6].country == "Taiwan" and a[6].p == 47 and a[6].n == 2)
  assert(a.p:sum() == 290)

  local gn = t:group_by("participants")
  assert(#gn == 15)
  local c = gn:count()
  assert(c[1].participants == 11 and c[1].n == 3)
  assert(c[4].participants == nil and c[4].n == 10)       -- nulls form their own group
  assert(c.n:sum() == 40)

  local gd = d:group_by("disaster")
  assert(tostring(gd) == "Grouping: 3 groups by disaster")
  local e = gd:agg("n = count()", "p = sum(persons)")
  assert(e[1].disaster == "Earthquake" and e[1].n == 13 and e[1].p == 250)
  assert(e[2].disaster == "Building collapse" and e[2].p == 20)
  assert(e[3].disaster == "Tsunami" and e[3].p == 20)

  local one = tally.from_columns{ {"k", {1, 1}} }:group_by("k")
  assert(tostring(one) == "Grouping: 1 group by k")
end

-- g:groups()
do
  local n, rows = 0, 0
  for key, sub in g:groups() do
    n = n + 1
    assert(key.program == programs[n])
    assert(#sub == 5 and sub:ncol() == 4 and sub.program[1] == programs[n])
    rows = rows + #sub
  end
  assert(n == 8 and rows == 40)

  local found = false
  for key, sub in t:group_by("participants"):groups() do
    if key.participants == nil then
      assert(next(key) == nil)                              -- null keys are left out
      assert(#sub == 10 and sub.participants:nulls() == 10)
      found = true
    end
  end
  assert(found)

  for key, sub in d:group_by("country", "disaster"):groups() do
    if key.country == "Taiwan" then
      assert(key.disaster == "Earthquake" and #sub == 2 and sub.persons:sum() == 47)
    end
  end
end

-- g:apply
do
  local a = d:group_by("disaster"):apply(function(sub, key)
    return { n = #sub, most = sub.persons:max(), label = key.disaster .. "!" }
  end)
  assert(#a == 3 and a:ncol() == 4)
  local names = a:names()
  assert(names[1] == "disaster" and names[2] == "label" and names[3] == "most"
         and names[4] == "n")                              -- keys, then fields by name
  assert(a[1].disaster == "Earthquake" and a[1].n == 13 and a[1].most == 45)
  assert(a[1].label == "Earthquake!" and a[3].most == 20)
  assert(a.n:type() == "int" and a.label:type() == "string")

  -- nil leaves a group out; a missing field is null
  local b = g:apply(function(sub, key)
    if key.program == "Community Policing" then return nil end
    if key.program == "Criminal Identification" then return { total = tally.null } end
    return { total = sub.participants:sum(), best = sub.participants:max() }
  end)
  assert(#b == 7 and b:ncol() == 3)
  assert(b[1].total == 49 and b[1].best == 14)
  assert(b[2].program == "Control of Drug Offenses" and b[2].total == 88)
  assert(b[7].program == "Criminal Identification" and b[7].total == nil and b[7].best == nil)

  -- no result at all: the key columns and no row
  local c = g:apply(function() end)
  assert(#c == 0 and c:ncol() == 1)

  -- the ordered form { {name, value}, ... } keeps its order; later results
  -- may use either form
  local o = d:group_by("disaster"):apply(function(sub, key)
    if key.disaster == "Flood" then return { n = #sub, most = sub.persons:max() } end
    return { {"n", #sub}, {"most", sub.persons:max()}, {"label", key.disaster .. "!"} }
  end)
  local on = o:names()
  assert(on[1] == "disaster" and on[2] == "n" and on[3] == "most" and on[4] == "label",
         table.concat(on, ","))
  assert(o[1].n == 13 and o[1].most == 45 and o[1].label == "Earthquake!")
  check_error("field 'n' is given twice", function()
    return g:apply(function() return { {"n", 1}, {"n", 2} } end)
  end)
  check_error("the result mixes pairs {name, value} and fields name = value", function()
    return g:apply(function() return { {"n", 1}, m = 2 } end)
  end)
  check_error("entry 2 of the result must be a pair {name, value}", function()
    return g:apply(function() return { {"n", 1}, 5 } end)
  end)
end
check_error('apply: group 2 (disaster = "Building collapse"): field \'extra\' is not among '
            .. "the fields of the first result",
            function()
              return d:group_by("disaster"):apply(function(sub, key)
                if key.disaster == "Earthquake" then return { n = #sub } end
                return { n = #sub, extra = 1 }
              end)
            end)
check_error('apply: group 1 (disaster = "Earthquake"): boom', function()
  return d:group_by("disaster"):apply(function() error("boom", 0) end)
end)
check_error('apply: group 1 (disaster = "Earthquake"): expected a table {name = value} or nil, '
            .. "got number", function()
  return d:group_by("disaster"):apply(function() return 1 end)
end)
check_error("apply: column 'x' row 2: expected a number, got string", function()
  return d:group_by("disaster"):apply(function(sub) return { x = #sub > 5 and 1 or "few" } end)
end)
check_error("apply: duplicate column name 'disaster'", function()
  return d:group_by("disaster"):apply(function() return { disaster = 1 } end)
end)
check_error("bad argument #1 to 'apply' (function expected, got no value)",
            function() return g:apply() end)

-- grouping errors
check_error("group_by: unknown column 'progam' (did you mean 'program'?)", t.group_by, t, "progam")
check_error("group_by: expected at least one key column", t.group_by, t)
check_error("agg: unknown column 'participant' (did you mean 'participants'?)",
            g.agg, g, "sum(participant)")
check_error('agg: "sum(program)": sum of string values', t.agg, t, "sum(program)")
check_error("agg: ", t.agg, t, "n = count(")
check_error("bad argument #1 to 'agg' (tally.Grouping expected, got tally.Table)",
            function() return g.agg(t, "n = count()") end)

-- integer overflow in a sum is an error, never a wrapped number
do
  local big = tally.from_columns{ {"k", {1, 1}}, {"x", {math.maxinteger, 1}} }
  check_error("integer overflow", big.agg, big, "sum(x)")
  check_error("agg: ", big.agg, big, "sum(x)")
  check_error("integer overflow", function() return big:group_by("k"):agg("sum(x)") end)
  check_error("add: integer overflow", function() return big.x + 1 end)
end

-- a grouping keeps its table alive; __gc and __close are idempotent
do
  local g2 = tally.read_csv("data/jdr_dispatches.csv"):group_by("disaster")
  collectgarbage(); collectgarbage()
  assert(#g2 == 3 and g2:agg("p = sum(persons)").p:sum() == 290)
  local mt = getmetatable(g2)
  assert(mt.__gc == mt.__close)
  mt.__close(g2); mt.__close(g2); mt.__gc(g2)
  check_error("grouping is closed", function() return #g2 end)
  check_error("grouping is closed", g2.agg, g2, "n = count()")
  assert(tostring(g2) == "Grouping (closed)")
  do
    local g3 <close> = d:group_by("country")
    assert(#g3 == 15)
  end
  -- closing the grouping while iterating or applying raises, never crashes
  local g4 = d:group_by("disaster")
  check_error("groups: the grouping is closed", function()
    for _ in g4:groups() do mt.__close(g4) end
  end)
  local g5 = d:group_by("disaster")
  check_error("apply: the grouping was closed", g5.apply, g5, function() mt.__close(g5); return {} end)
end

-- save and load ------------------------------------------------------------------------
do
  for _, src in ipairs{ t, d, t:filter("year >= 2019"), tally.from_columns{ {"x", {}} } } do
    local path = tmpname()
    src:save(path)
    local u = tally.load(path)
    os.remove(path)                                      -- the mapping outlives the name
    assert(#u == #src and u:ncol() == src:ncol())
    local s1, s2 = src:schema(), u:schema()
    for j = 1, #s1 do
      assert(s1[j].name == s2[j].name and s1[j].type == s2[j].type and s1[j].nulls == s2[j].nulls)
    end
    for i = 1, #src do
      for j = 1, src:ncol() do
        assert(src[i][j] == u[i][j], string.format("row %d column %d differs", i, j))
      end
    end
    assert(tostring(u) == tostring(src))
  end
  local path = tmpname()
  t:save(path)
  t:save(path)                                           -- saving over a file replaces it
  local u = tally.load(path)
  os.remove(path)
  assert(u.participants:sum() == 446 and u:group_by("program"):count().n:sum() == 40)
  check_error("load: ", tally.load, "data/no_such_file.tly")
  check_error("load: data/jica_training.csv: ", tally.load, "data/jica_training.csv")
  check_error("save: ", t.save, t, "/no/such/dir/x.tly")
  check_error("bad argument #1 to 'save' (string expected, got no value)",
              function() return t:save() end)
  check_error("bad argument #1 to 'load' (string expected, got no value)",
              function() return tally.load() end)
end

-- column operators ------------------------------------------------------------------------------
do
  local p1 = t.participants + 1
  assert(p1:name() == "participants" and p1:type() == "int")
  assert(p1[1] == 12 and p1[5] == nil and p1:sum() == 476 and p1:nulls() == 10)
  assert((1 + t.participants):sum() == 476)
  assert((t.participants - 1)[1] == 10 and (1 - t.year)[1] == -2015)
  assert((t.participants * t.countries)[1] == 121)
  local r = t.participants / t.countries
  assert(r:type() == "float" and r[6] == 1.125 and r[5] == nil)
  assert((t.year / 0):nulls() == 40)                    -- division by zero is null
  assert((t.year // 3)[1] == 672 and (t.year % 2)[1] == 0 and (t.year % 2)[2] == 1)
  assert((t.year ^ 2)[1] == 4064256.0 and (t.year ^ 2):type() == "float")
  assert((-t.year)[1] == -2016 and (-t.participants)[5] == nil)
  assert((t.year + 0.5)[1] == 2016.5 and (t.year + 2.0):type() == "float")
  assert((t.year * -2)[1] == -4032 and (t.year * -2.5)[1] == -5040.0)
  assert((t.year + math.maxinteger // 2)[1] == 2016 + math.maxinteger // 2)
  assert((t.year - math.mininteger // 2)[1] == 2016 - math.mininteger // 2)
  assert((t.year + 0.1)[1] == 2016 + 0.1)
  local bang = t.program .. "!"
  assert(bang:type() == "string" and bang[6] == "Community Policing!")
  assert(("<" .. t.program)[6] == "<Community Policing")

  -- comparisons
  local ge = t.year:ge(2018)
  assert(ge:type() == "bool" and ge:name() == "year" and ge:sum() == 24)
  assert(t.year:gt(2019):sum() == 8 and t.year:lt(2017):sum() == 8)
  assert(t.year:le(2017):sum() == 16 and t.year:eq(2016):sum() == 8)
  assert(t.year:ne(2016):sum() == 32)
  assert(t.participants:gt(20):sum() == 7 and t.participants:gt(20):nulls() == 10)
  assert(t.participants:eq(t.countries):sum() == 15)
  assert(t.program:eq("Community Policing"):sum() == 5)
  assert(t.participants:is_null():sum() == 10 and t.participants:is_null():nulls() == 0)
  assert(t.participants:eq(nil):nulls() == 40)           -- comparing with null is null
  assert(d.date:ge("2000-01-01"):sum() == 10)

  -- masks
  local both = t.year:ge(2018) & t.participants:gt(20)
  assert(both:type() == "bool" and both:sum() == 4)
  assert(#t:filter(both) == 4)
  local either = t.year:eq(2016) | t.participants:gt(20)
  assert(either:sum() == 14 and #t:filter(either) == 14)
  local no = ~t.year:ge(2018)
  assert(no:sum() == 16)
  assert((~t.participants:gt(20)):nulls() == 10)
  assert(#t:filter((t.year:ge(2018) & t.participants:gt(20)) | t.program:eq("Community Policing")) == 9)

  -- isin
  assert(t.year:isin{ 2016, 2018 }:sum() == 16)
  assert(t.year:isin{}:sum() == 0 and #t.year:isin{} == 40)
  assert(t.program:isin{ "Community Policing", "Criminal Identification", "x" }:sum() == 10)
  local many = {}
  for i = 1, 1000 do many[i] = 3000 + i end
  many[500] = 2017
  assert(t.year:isin(many):sum() == 8)

  -- string literals are quoted and escaped
  local q = tally.from_columns{ {"s", {"it's", "a\\b", 'say "x"', "two\nlines", "nul\0byte"}} }
  assert(q.s:eq("it's")[1] == true and q.s:eq("it's"):sum() == 1)
  assert(q.s:eq("a\\b")[2] == true and q.s:eq("a\\b"):sum() == 1)
  assert(q.s:eq('say "x"')[3] == true and q.s:eq("two\nlines")[4] == true)
  assert(q.s:eq("nul\0byte")[5] == true)
  assert((q.s .. "'")[1] == "it's'")

  -- booleans
  local bt = tally.from_columns{ {"b", {true, false, tally.null}} }
  assert(bt.b:eq(true)[1] == true and bt.b:eq(false)[2] == true and bt.b:eq(true)[3] == nil)
end
check_error("add: column 'program': arithmetic on string and int", function() return t.program + 1 end)
check_error("mul: columns 'program' and 'year': arithmetic on string and int",
            function() return t.program * t.year end)
check_error("gt: column 'program': cannot compare string with int", t.program.gt, t.program, 1)
check_error("and: columns 'year' and 'year': ", function() return t.year & t.year end)
check_error("not: column 'year': ", function() return ~t.year end)
check_error("add: the columns have 40 and 16 rows", function() return t.year + d.persons end)
check_error("add: cannot use a table value in a column expression", function() return t.year + {} end)
check_error("add: nan cannot be used in a column expression", function() return t.year + 0 / 0 end)
check_error("bad argument #1 to 'eq' (value expected)", function() return t.year:eq() end)
check_error("bad argument #1 to 'isin' (table expected, got number)",
            function() return t.year:isin(1) end)
check_error("bad argument #1 to 'ge' (tally.Column expected, got number)",
            function() return t.year.ge(1, 2) end)
do
  local c = d.persons
  getmetatable(c).__close(c)
  check_error("add: the column is closed", function() return c + 1 end)
  check_error("column is closed", c.ge, c, 1)
end

print("test_verbs: ok")
