-- custom_aggregate.lua -- a worked example: writing an aggregate in Lua
-- and using it next to the built-in ones.
--
--   tally scripts/custom_aggregate.lua [DATA_DIR]
--
-- A course's typical size is better told by the geometric mean than by the
-- arithmetic mean when sizes vary by factors rather than by steps. tally
-- has no built-in geometric mean, so we write one.

local dir = arg and arg[1] or "data"
local training = tally.read_csv(dir .. "/jica_training.csv")

-- 1. Define the aggregate. tally drives the scan in C and calls back:
--    init()       makes an empty state for one group;
--    step(st, x)  adds one non-null value x to a state (nulls are skipped,
--                 as for every aggregate, so a year without a course does
--                 not count);
--    merge(a, b)  combines the states of two parts of a group, when the
--                 rows were split between threads; it returns the result;
--    final(st)    turns a state into the group's value (nil: null).
local geomean = tally.aggregate{
  name  = "geomean",                          -- the name in expression strings
  type  = "float",                            -- declared, so it can sit inside
                                              -- an expression ("round(geomean(x))")
  init  = function() return { logs = 0, n = 0 } end,
  step  = function(st, x) st.logs = st.logs + math.log(x); st.n = st.n + 1 end,
  merge = function(a, b) a.logs = a.logs + b.logs; a.n = a.n + b.n; return a end,
  final = function(st)
    if st.n > 0 then return math.exp(st.logs / st.n) end   -- no values: null
  end,
}

-- 2. Use it by name inside agg, among built-in aggregates and arithmetic.
local sizes = training:group_by("program")
  :agg("courses = count(participants)",
       "mean = round(mean(participants) * 10) / 10",
       "geomean = round(geomean(participants) * 10) / 10")
print("Course size per program: arithmetic and geometric means")
print()
sizes:show()
print()

-- 3. A second aggregate: the spread of course sizes, the largest over the
--    smallest. merge may build a new state instead of filling one in.
tally.aggregate{
  name  = "spread",
  type  = "float",
  init  = function() return { lo = math.huge, hi = -math.huge } end,
  step  = function(st, x)
    if x < st.lo then st.lo = x end
    if x > st.hi then st.hi = x end
  end,
  merge = function(a, b)
    return { lo = math.min(a.lo, b.lo), hi = math.max(a.hi, b.hi) }
  end,
  final = function(st) if st.hi >= st.lo then return st.hi / st.lo end end,
}

-- 4. Aggregates work on the whole table too, and per year.
print("Per year: the largest course over the smallest")
print()
training:group_by("year")
  :agg("courses = count(participants)", "spread = round(spread(participants) * 100) / 100")
  :show()
print()
local all = training:agg("geomean = geomean(participants)", "mean = mean(participants)")
print(string.format("all courses: geometric mean %.2f, arithmetic mean %.2f",
  all.geomean[1], all.mean[1]))
