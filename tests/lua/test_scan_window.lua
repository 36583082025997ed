-- A scan's mutate that reads its whole input (window functions, aggregates
-- over the input, with or without order_by / partition_by) against the
-- table's mutate: random plans (streaming verbs, the window mutate, then
-- nothing, head, filter, a grouping, a sort or a second window mutate) over
-- CSV (one file and two), Parquet (several row groups) and the table, with
-- batches down to one row, on 1 and 3 threads; then the edges: no rows, a
-- verb-time error, an error inside the window (the table's message), Lua
-- functions, the writers, explain, and the memory limit (the gathering
-- fails with mutate's out-of-memory error, and the scan works again after).
-- TALLY_SCAN_WINDOW_SEED picks other plans and data.
-- Run from the repository root: tally tests/lua/test_scan_window.lua

local tally = require "tally"
local testing = require "tally.testing"
local check = require "tests.lua.scan_check"
local check_error, same = check.check_error, check.same

local SEED = tonumber(os.getenv("TALLY_SCAN_WINDOW_SEED") or "") or 20261203
local dir = check.tempdir()
local function path(name) return dir .. "/" .. name end
-- an error's message without the place of the Lua call that raised it
local function msg(e) return (tostring(e):gsub("^[%w_/%.%-]+%.lua:%d+: ", "")) end

-- ---------------------------------------------------------------------------
-- Data: i (1..n), g (few strings, nulls), k (few ints, nulls), x (floats
-- with NaN, ties, nulls), y (ints with ties, nulls).

local function maybe(p, v) if math.random() < p then return tally.null end return v end

local function gen(n, seed)
  math.randomseed(seed)
  local c = { i = {}, g = {}, k = {}, x = {}, y = {} }
  for r = 1, n do
    c.i[r] = r
    c.g[r] = maybe(0.1, ({ "a", "b", "c", "" })[math.random(4)])
    c.k[r] = maybe(0.1, math.random(-2, 2))
    local u = math.random()
    c.x[r] = maybe(0.1, u < 0.05 and 0 / 0 or u < 0.15 and 1.5 or
                        math.floor((math.random() * 200 - 100) * 100) / 100)
    c.y[r] = maybe(0.1, math.random(-50, 50))
  end
  return tally.from_columns{ { "i", c.i }, { "g", c.g }, { "k", c.k }, { "x", c.x },
                             { "y", c.y } }
end

local types = { i = "int", g = "string", k = "int", x = "float", y = "int" }

local function sources(t, name)
  local one, a, b = path(name .. ".csv"), path(name .. "-a.csv"), path(name .. "-b.csv")
  t:write_csv(one)
  local h = #t // 3
  t:slice(1, h):write_csv(a)
  t:slice(h + 1, #t):write_csv(b)
  local pq = path(name .. ".parquet")
  t:write_parquet(pq, { row_group_size = math.max(1, #t // 6) })
  same(tally.read_csv(one, { types = types }), t, name .. ": the CSV reads back")
  return {
    { "csv", function() return tally.scan(one, { types = types }) end },
    { "two csv files", function() return tally.scan({ a, b }, { types = types }) end },
    { "parquet", function() return tally.scan(pq) end },
    { "table", function() return tally.scan(t) end },
  }
end

-- ---------------------------------------------------------------------------
-- Plans: steps { text, function(scan or table) }.

local function pick(v) return v[math.random(#v)] end

local windows = {
  "p = lag(x)", "q = lead(y, 2)", "q = lag(y, 1, 0)", "r = row_number()", "r = rank()",
  "r = dense_rank()", "c = cumsum(y)", "c = cummax(x)", "c = cumcount()", "m = rolling_mean(y, 3)",
  "m = rolling_sum(x, 2)", "s = y / sum(y)", "s = x - mean(x)", "n = count()", "n = count(g)",
  "f = first_value(g)", "f = last_value(y)", "t = ntile(3)", "t = percent_rank()",
  "t = cume_dist()", "z = max(y) - min(y)", "d = y - lag(y) + cumsum(k)",
}

local function window_options()
  local o, u = {}, math.random()
  if u < 0.3 then return nil end
  if u < 0.65 then o.order_by = pick({ "y", "-x", { "k", "-i" }, { "g", "y" } }) end
  if u > 0.5 then o.partition_by = pick({ "g", "k", { "g", "k" } }) end
  return o
end

local function optext(o)
  if not o then return "" end
  local function l(v) return type(v) == "table" and table.concat(v, ",") or v end
  return string.format(", {order_by=%s, partition_by=%s}", l(o.order_by or "-"),
                       l(o.partition_by or "-"))
end

local function window_step()
  local defs = {}
  for j = 1, math.random(2) do defs[j] = pick(windows) end
  if math.random() < 0.3 then table.insert(defs, math.random(#defs + 1), "w = y * 2") end
  local o = window_options()
  local args = { table.unpack(defs) }
  if o then args[#args + 1] = o end
  return { "mutate(" .. table.concat(defs, ", ") .. optext(o) .. ")",
           function(s) return s:mutate(table.unpack(args)) end }
end

local before = {
  { "filter(y > 0)", function(s) return s:filter("y > 0") end },
  { "filter(not is_null(g))", function(s) return s:filter("not is_null(g)") end },
  { "mutate(y = y + k)", function(s) return s:mutate("y = y + k") end },
  { "select(i, g, k, x, y)", function(s) return s:select("i", "g", "k", "x", "y") end },
  { "filter(i < 0)", function(s) return s:filter("i < 0") end },   -- no rows
  { "filter(1 > 2)", function(s) return s:filter("1 > 2") end },   -- folded: reads nothing
}

local after = {
  { "head(7)", function(s) return s:head(7) end },
  { "filter(k > 0)", function(s) return s:filter("k > 0") end },
  { "group_by(g):agg", function(s) return s:group_by("g"):agg("n = count()", "sy = sum(y)") end },
  { "sort(-y, i)", function(s) return s:sort("-y", "i") end },
  { "top(5, x)", function(s) return s:top(5, "x", "i") end },
  { "mutate(lag2 = lag(i, 2), {order_by = -i})",
    function(s) return s:mutate("lag2 = lag(i, 2)", { order_by = "-i" }) end },
  { "mutate(rn2 = row_number())", function(s) return s:mutate("rn2 = row_number()") end },
}

local function make_plan()
  local steps = {}
  if math.random() < 0.5 then steps[#steps + 1] = pick(before) end
  if math.random() < 0.15 then steps[#steps + 1] = pick(before) end
  steps[#steps + 1] = window_step()
  if math.random() < 0.6 then steps[#steps + 1] = pick(after) end
  if math.random() < 0.15 then steps[#steps + 1] = pick(after) end
  local text = {}
  for j, st in ipairs(steps) do text[j] = st[1] end
  return { text = table.concat(text, " : "), steps = steps }
end

local function apply(plan, s)
  for _, st in ipairs(plan.steps) do s = st[2](s) end
  return s
end

-- ---------------------------------------------------------------------------
-- Random plans on every source, knob set and count of threads.

local checked, failed_alike = 0, 0

local function run_plans(t, name, nplans, knob_sets)
  local srcs = sources(t, name)
  local plans, wants = {}, {}
  for j = 1, nplans do
    plans[j] = make_plan()
    local ok, r = pcall(function() return apply(plans[j], t) end)
    wants[j] = { ok = ok, t = ok and r or nil, err = not ok and tostring(r) or nil }
  end
  for _, threads in ipairs({ 1, 3 }) do
    tally.threads(threads)
    for _, ks in ipairs(knob_sets) do
      for _, src in ipairs(srcs) do
        for j, p in ipairs(plans) do
          local where = string.format("seed %d, plan %s, source %s, knobs %s, %d threads", SEED,
                                      p.text, src[1], ks.text, threads)
          local ok, got = pcall(testing.with, ks.v, function()
            return apply(p, src[2]()):collect()
          end)
          if not wants[j].ok then
            -- a bad plan (rank() without order_by, ...) fails as the table's verb does
            assert(not ok, where .. ": the table's verbs fail, the scan does not")
            assert(msg(got) == msg(wants[j].err),
                   where .. ": error " .. msg(got) .. ", want " .. msg(wants[j].err))
            failed_alike = failed_alike + 1
          else
            if not ok then error(where .. ": " .. tostring(got), 0) end
            local ok2, e = pcall(same, got, wants[j].t, where)
            if not ok2 then error(e, 0) end
            checked = checked + 1
          end
        end
      end
    end
  end
  tally.threads(0)
end

math.randomseed(SEED)
local t_small = gen(40, SEED)
math.randomseed(SEED + 1)
run_plans(t_small, "small", 30, {
  { text = "one-row batches, one-byte morsels", v = { batch_rows = 1, morsel_bytes = 1 } },
})
local t = gen(2000, SEED + 2)
math.randomseed(SEED + 3)
run_plans(t, "medium", 30, {
  { text = "default", v = {} },
  { text = "batches of 37 rows, morsels of 512 bytes", v = { batch_rows = 37, morsel_bytes = 512 } },
})
assert(checked > 200 and failed_alike > 0, "checked " .. checked .. ", failed alike " .. failed_alike)

-- ---------------------------------------------------------------------------
-- Edges

local csv = path("medium.csv")
local function scan() return tally.scan(csv, { types = types }) end

-- explain: the step materializes, the verbs after it run in memory
do
  local e = scan():filter("y > 0"):mutate("p = lag(x)", { partition_by = "g" }):head(3):explain()
  assert(e:find("filters pushed into the scan:\n    y > 0", 1, true), e)
  assert(e:find("\nmutate p = lag(x) (partition_by g)  [materializes: the rows are gathered in "
                .. "memory in file order for the window function 'lag', then mutated as a table]",
                1, true), e)
  assert(e:find("\nhead 3  [in memory, on the result above]", 1, true), e)
  e = scan():mutate("s = y / sum(y)"):explain()
  assert(e:find("for the aggregate over the input 'sum'", 1, true), e)
  -- a mutate without such a call still runs per batch, its options checked
  e = scan():mutate("w = y * 2", { order_by = "y" }):explain()
  assert(e:find("mutate w = y * 2  [per batch]", 1, true), e)
  assert(scan():mutate("p = lag(x)"):names()[6] == "p")
end

-- errors when the verb is called: the table's
for _, bad in ipairs{
  { "r = rank()" }, { "p = lag(nope)" }, { "p = lag(x)", { order_by = "nope" } },
  { "p = lag(x)", { partition_by = { "g", 3 } } }, { "p = lag(x)", { over = "g" } },
} do
  local ok, want = pcall(function() return t:mutate(table.unpack(bad)) end)
  assert(not ok)
  local e = check_error(msg(want), function()
    return scan():mutate(table.unpack(bad))
  end)
  assert(e:find("mutate", 1, true), e)
end

-- an error inside the window, on a row: word for word the table's
do
  local big = tally.from_columns{ { "v", { 1, 4611686018427387904, 4611686018427387904, 5 } } }
  big:write_csv(path("big.csv"))
  local ok, want = pcall(function() return big:mutate("c = cumsum(v)") end)
  assert(not ok)
  for _, src in ipairs{ path("big.csv"), big } do
    for _, th in ipairs{ 1, 3 } do
      tally.threads(th)
      local ok2, got = pcall(function()
        return testing.with({ batch_rows = 1, morsel_bytes = 1 }, function()
          return tally.scan(src):mutate("c = cumsum(v)"):collect()
        end)
      end)
      assert(not ok2 and msg(got) == msg(want), msg(got) .. " vs " .. msg(want))
    end
  end
  tally.threads(0)
end

-- Lua functions before and inside the window: the table's result, and its
-- error naming the function and the row
do
  tally.func{ name = "half", type = "float", fn = function(v) return v / 2 end }
  tally.func{ name = "boom", type = "int", fn = function(v)
    if v == 1500 then error("no " .. v) end
    return v
  end }
  for _, th in ipairs{ 1, 3 } do
    tally.threads(th)
    testing.with({ batch_rows = 64 }, function()
      same(scan():mutate("h = half(y)"):mutate("p = lag(half(h))", "c = cumsum(y)")
             :filter("i % 3 == 0"):collect(),
           t:mutate("h = half(y)"):mutate("p = lag(half(h))", "c = cumsum(y)"):filter("i % 3 == 0"),
           "Lua functions, " .. th .. " threads")
      local ok, want = pcall(function() return t:mutate("b = lag(boom(i))") end)
      assert(not ok and tostring(want):find("row 1500", 1, true), tostring(want))
      check_error(msg(want), function() return scan():mutate("b = lag(boom(i))"):collect() end)
    end)
  end
  tally.threads(0)
end

-- the writers write the mutated rows, as the table's writers would
do
  local s = scan():filter("k ~= 0"):mutate("r = row_number()", "c = cumsum(y)", { partition_by = "k" })
  local want = t:filter("k ~= 0"):mutate("r = row_number()", "c = cumsum(y)", { partition_by = "k" })
  s:write_csv(path("o.csv"))
  same(tally.read_csv(path("o.csv"), { types = { i = "int", g = "string", k = "int", x = "float",
                                                 y = "int", r = "int", c = "int" } }), want,
       "write_csv")
  s:write_parquet(path("o.parquet"))
  same(tally.read_parquet(path("o.parquet")), want, "write_parquet")
  s:write_arrow(path("o.arrow"))
  same(tally.read_arrow(path("o.arrow")), want, "write_arrow")
end

-- an empty file: no rows, the columns and types of the table's mutate
do
  local h = assert(io.open(path("empty.csv"), "wb"))
  h:write("i,g,k,x,y\n")
  h:close()
  local got = tally.scan(path("empty.csv"), { types = types })
                :mutate("p = lag(x)", "r = rank()", "s = sum(y)", { order_by = "y" }):collect()
  same(got, t:head(0):mutate("p = lag(x)", "r = rank()", "s = sum(y)", { order_by = "y" }),
       "empty file")
  assert(#got == 0 and got:ncol() == 8)
end

-- Under a memory limit: the gathering past it fails with mutate's
-- out-of-memory error, naming the limit and the call; a larger limit then
-- runs the same scan.
do
  local n = 200000
  local cols = { {}, {} }
  for r = 1, n do cols[1][r] = r; cols[2][r] = (r * 7919) % 1000 end
  local big = tally.from_columns{ { "a", cols[1] }, { "b", cols[2] } }
  big:write_csv(path("many.csv"))
  local want = big:mutate("p = lag(b)", "c = cumsum(b)")
  cols, big = nil, nil
  local was = tally.memory_limit()
  for _, th in ipairs{ 1, 3 } do
    tally.threads(th)
    local s = tally.scan(path("many.csv"), { types = { a = "int", b = "int" } })
                :mutate("p = lag(b)", "c = cumsum(b)")
    collectgarbage()
    collectgarbage()
    local _, used = tally.memory_limit()
    local limit = used + (1 << 20)
    tally.memory_limit(limit)
    local ok, err = pcall(testing.with, { morsel_bytes = 16384 }, function() return s:collect() end)
    tally.memory_limit(was)
    assert(not ok, "gathered 200000 rows under 1 MB")
    err = msg(err)
    assert(err:find("^mutate: out of memory %(memory limit " .. limit .. " bytes%): raise it with "
                    .. "memory_limit or TALLY_MEMORY_LIMIT %(a scan's mutate with the window "
                    .. "function 'lag' gathers its input in memory%)"), err)
    same(s:collect(), want, "after the limit, " .. th .. " threads")
  end
  tally.threads(0)
end

os.execute("rm -rf '" .. dir .. "'")
print(string.format("test_scan_window: ok (%d runs compared, %d failed as the table's; seed %d)",
                    checked, failed_alike, SEED))
