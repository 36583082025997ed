-- Lazy scans against the in-memory verbs on random data and random plans:
-- chains of filter, mutate, select, drop and rename, then one of group_by+agg,
-- agg, top, head, distinct, join, sort, a mutate with window functions (or
-- nothing), then now and then a verb
-- on the result; each plan's tally.scan(...):collect() equals the same verbs
-- on the in-memory table, row for row (every verb keeps an order: file order,
-- first appearance of a group or a distinct row, the stable sort's, the
-- in-memory join's), over CSV (plain, gzip, zstd), Parquet (several row groups,
-- and one) and the table itself, with batches down to one row, on 1 and 3
-- threads, and under a memory limit small enough that groupings and sorts
-- spill. The data: nulls everywhere, NaN, empty strings, negative numbers,
-- dates, booleans, duplicate keys.
--
-- TALLY_SCAN_RANDOM_SCALE (default 1) multiplies the rows and the plans;
-- TALLY_SCAN_RANDOM_SEED picks other plans and data. A mismatch names the
-- seed, the plan, the source, the knobs and the threads.
-- Run from the repository root: tally tests/lua/test_scan_random.lua

local tally = require "tally"
local testing = require "tally.testing"

local check = require "tests.lua.scan_check"
local same = check.same

local SCALE = tonumber(os.getenv("TALLY_SCAN_RANDOM_SCALE") or "1") or 1
local SEED = tonumber(os.getenv("TALLY_SCAN_RANDOM_SEED") or "") or 20261202

local dir = check.tempdir()

-- ---------------------------------------------------------------------------
-- Data

local words = { "alpha", "beta", "", "gamma, with a comma", 'say "hi"', "delta\nline", "Beta",
                "zeta" }
local types = { i = "int", k = "int", g = "string", x = "float", y = "int", d = "date",
                b = "bool" }
local order = { "i", "k", "g", "x", "y", "d", "b" }

local function maybe(p, v) if math.random() < p then return tally.null end return v end

-- n rows: i (1..n), k (few ints, negative ones), g (words), x (floats with
-- NaN, zeros and ties), y (ints, negative, duplicated), d (dates), b (bool);
-- every column but i with nulls.
local function gen(n, seed)
  math.randomseed(seed)
  local c = { i = {}, k = {}, g = {}, x = {}, y = {}, ds = {}, b = {} }
  for r = 1, n do
    c.i[r] = r
    c.k[r] = maybe(0.1, math.random(-3, 3))
    c.g[r] = maybe(0.1, words[math.random(#words)])
    local u = math.random()
    local x = u < 0.05 and 0 / 0 or u < 0.1 and 0.0 or u < 0.2 and -1.5 or
              math.floor((math.random() * 200 - 100) * 100) / 100
    c.x[r] = maybe(0.1, x)
    c.y[r] = maybe(0.15, math.random() < 0.5 and math.random(-5, 5) or math.random(-1000000, 1000000))
    c.ds[r] = maybe(0.1, string.format("20%02d-%02d-%02d", math.random(19, 21), math.random(1, 12),
                                       math.random(1, 28)))
    c.b[r] = maybe(0.2, math.random() < 0.5)
  end
  -- a last row of nulls ends each array (a Lua array ends at its last non-nil)
  return tally.from_columns{ { "i", c.i }, { "k", c.k }, { "g", c.g }, { "x", c.x },
                             { "y", c.y }, { "ds", c.ds }, { "b", c.b } }
    :mutate("d = date(ds)"):select("i", "k", "g", "x", "y", "d", "b")
end

-- The files of a table, each checked to read back as the table; the sources
-- as { name, scan-maker }.
local function sources(t, name)
  local p = dir .. "/" .. name .. ".csv"
  t:write_csv(p)
  same(tally.read_csv(p, { types = types }), t, name .. ": the CSV reads back")
  assert(os.execute("gzip -kf '" .. p .. "'"))
  assert(os.execute("zstd -qf '" .. p .. "' -o '" .. p .. ".zst'"))
  local pq = dir .. "/" .. name .. ".parquet"
  t:write_parquet(pq, { row_group_size = math.max(1, #t // 5) })
  local pq1 = dir .. "/" .. name .. "-1.parquet"
  t:write_parquet(pq1, { row_group_size = #t + 1 })
  same(tally.read_parquet(pq), t, name .. ": the Parquet file reads back")
  local function file(f) return function() return tally.scan(f, { types = types }) end end
  return {
    { "csv", file(p) },
    { "csv.gz", file(p .. ".gz") },
    { "csv.zst", file(p .. ".zst") },
    { "parquet", function() return tally.scan(pq) end },
    { "parquet, 1 row group", function() return tally.scan(pq1) end },
    { "table", function() return tally.scan(t) end },
  }
end

-- ---------------------------------------------------------------------------
-- Plans: a list of steps, each { text, function(scan or table) }.

local function pick(v) return v[math.random(#v)] end

local function names_of(cols, want)
  local v = {}
  for _, c in ipairs(cols) do
    if not want or want[c.type] then v[#v + 1] = c.name end
  end
  return v
end

local function typeof(cols, name)
  for _, c in ipairs(cols) do if c.name == name then return c.type end end
end

local function shuffle(v)
  for j = #v, 2, -1 do
    local r = math.random(j)
    v[j], v[r] = v[r], v[j]
  end
  return v
end

local fresh = 0
local function new_name(stem)
  fresh = fresh + 1
  return stem .. fresh
end

local function condition(cols)
  local name = pick(names_of(cols))
  local ty = typeof(cols, name)
  local r = math.random()
  if r < 0.12 then return string.format("is_null(%s)", name) end
  if r < 0.2 then return string.format("not is_null(%s)", name) end
  local op = pick({ "<", "<=", ">", ">=", "==", "!=" })
  if ty == "int" then
    return string.format("%s %s %d", name, op, pick({ -3, -1, 0, 1, 2, 5, 100, -50000 }))
  elseif ty == "float" then
    return string.format("%s %s %s", name, op, pick({ "0", "-1.5", "20.25", "-70", "0.0" }))
  elseif ty == "string" then
    return string.format("%s %s '%s'", name, op, pick({ "alpha", "", "beta", "c", "zeta" }))
  elseif ty == "date" then
    return string.format("%s %s date('%s')", name, op, pick({ "2020-01-01", "2019-06-15",
                                                              "2021-12-28" }))
  else
    return pick({ name, "not " .. name })
  end
end

-- A streaming step that suits cols; updates cols.
local function stream_step(cols)
  local r = math.random()
  if r < 0.3 then
    local e = condition(cols)
    if math.random() < 0.3 then e = e .. pick({ " and ", " or " }) .. condition(cols) end
    return { "filter(" .. e .. ")", function(s) return s:filter(e) end }
  elseif r < 0.55 then
    local nums = names_of(cols, { int = true, float = true })
    local strs = names_of(cols, { string = true })
    local defs, new = {}, {}
    for _ = 1, math.random(2) do
      local u = math.random()
      local target = math.random() < 0.25 and pick(names_of(cols)) or new_name("m")
      if u < 0.4 and #nums > 0 then
        local a, b = pick(nums), pick(nums)
        local op = pick({ "+", "-", "*" })
        local ty = (typeof(cols, a) == "float" or typeof(cols, b) == "float") and "float" or "int"
        defs[#defs + 1] = string.format("%s = %s %s %s", target, a, op, b)
        new[#new + 1] = { target, ty }
      elseif u < 0.6 and #strs > 0 then
        defs[#defs + 1] = string.format("%s = upper(%s)", target, pick(strs))
        new[#new + 1] = { target, "string" }
      elseif u < 0.8 and #nums > 0 then
        local a = pick(nums)
        defs[#defs + 1] = string.format("%s = %s > 0", target, a)
        new[#new + 1] = { target, "bool" }
      else
        defs[#defs + 1] = string.format("%s = 7", target)
        new[#new + 1] = { target, "int" }
      end
    end
    -- the definitions run in order: a later one sees the earlier ones
    for _, d in ipairs(new) do
      local found = false
      for _, c in ipairs(cols) do
        if c.name == d[1] then c.type = d[2]; found = true end
      end
      if not found then cols[#cols + 1] = { name = d[1], type = d[2] } end
    end
    return { "mutate(" .. table.concat(defs, ", ") .. ")",
             function(s) return s:mutate(table.unpack(defs)) end }
  elseif r < 0.7 then
    local v = shuffle(names_of(cols))
    local keep = {}
    for j = 1, math.random(#v) do keep[j] = v[j] end
    local by = {}
    for _, c in ipairs(cols) do by[c.name] = c end
    for j = #cols, 1, -1 do cols[j] = nil end
    for j, n in ipairs(keep) do cols[j] = by[n] end
    return { "select(" .. table.concat(keep, ", ") .. ")",
             function(s) return s:select(table.unpack(keep)) end }
  elseif r < 0.85 and #cols > 1 then
    local j = math.random(#cols)
    local n = cols[j].name
    table.remove(cols, j)
    return { "drop(" .. n .. ")", function(s) return s:drop(n) end }
  else
    local c = cols[math.random(#cols)]
    local from, to = c.name, new_name("r")
    c.name = to
    return { "rename(" .. from .. " -> " .. to .. ")",
             function(s) return s:rename{ [from] = to } end }
  end
end

local function sort_keys(cols, most)
  local v = shuffle(names_of(cols))
  local keys = {}
  for j = 1, math.min(#v, math.random(most)) do
    keys[j] = (math.random() < 0.4 and "-" or "") .. v[j]
  end
  return keys
end

local function agg_defs(cols)
  local defs = { "n = count()" }
  local nums = names_of(cols, { int = true, float = true })
  local strs = names_of(cols, { string = true })
  local all = names_of(cols)
  for _ = 1, math.random(3) do
    local u = math.random()
    local name = new_name("a")
    if u < 0.45 and #nums > 0 then
      defs[#defs + 1] = string.format("%s = %s(%s)", name, pick({ "sum", "mean", "min", "max" }),
                                      pick(nums))
    elseif u < 0.6 and #strs > 0 then
      defs[#defs + 1] = u < 0.52 and string.format("%s = string_agg(%s, '/')", name, pick(strs))
                        or string.format("%s = %s(%s)", name, pick({ "min", "max" }), pick(strs))
    else
      defs[#defs + 1] = string.format("%s = %s(%s)", name, pick({ "first", "last", "count" }),
                                      pick(all))
    end
  end
  return defs
end

-- The right table of a join on column `name` of type ty (int or string):
-- duplicate keys, keys that match nothing, a null key.
local function right_table(name, ty)
  local keys
  if ty == "int" then keys = { 1, 2, 2, -3, 40, tally.null, 0 }
  else keys = { "alpha", "beta", "beta", "", "nope", tally.null, "zeta" } end
  return tally.from_columns{ { name, keys }, { "rv", { 10, 20, 21, 30, 40, 50, 60 } } }
end

-- A mutate that reads its whole input: window functions and aggregates over
-- the table or a partition, with or without order_by and partition_by.
local function window_mutate(cols)
  local nums = names_of(cols, { int = true, float = true })
  local ints = names_of(cols, { int = true })
  local all = names_of(cols)
  local defs = {}
  for _ = 1, math.random(2) do
    local u, name = math.random(), new_name("w")
    if u < 0.2 then
      defs[#defs + 1] = string.format("%s = lag(%s)", name, pick(all))
    elseif u < 0.3 then
      defs[#defs + 1] = string.format("%s = lead(%s, 2)", name, pick(all))
    elseif u < 0.45 then
      defs[#defs + 1] = name .. " = row_number()"
    elseif u < 0.55 and #ints > 0 then
      defs[#defs + 1] = string.format("%s = cumsum(%s)", name, pick(ints))
    elseif u < 0.7 and #nums > 0 then
      defs[#defs + 1] = string.format("%s = %s - mean(%s)", name, pick(nums), pick(nums))
    elseif u < 0.8 and #nums > 0 then
      defs[#defs + 1] = string.format("%s = rolling_mean(%s, 3)", name, pick(nums))
    elseif u < 0.9 then
      defs[#defs + 1] = string.format("%s = count(%s)", name, pick(all))
    else
      defs[#defs + 1] = name .. " = dense_rank()"   -- without order_by: the table's error
    end
  end
  local opts, text = {}, ""
  if math.random() < 0.5 then
    opts.order_by = (math.random() < 0.4 and "-" or "") .. pick(all)
    text = text .. " order_by " .. opts.order_by
  end
  if math.random() < 0.4 then
    opts.partition_by = pick(all)
    text = text .. " partition_by " .. opts.partition_by
  end
  return { "mutate(" .. table.concat(defs, ", ") .. text .. ")",
           function(s)
             local args = { table.unpack(defs) }
             if next(opts) then args[#args + 1] = opts end
             return s:mutate(table.unpack(args))
           end }
end

-- The step that needs the whole input (or none); returns it and the names
-- of its result's columns for a step after it.
local function final_step(cols, r, wide)
  r = r or math.random()
  if r < 0.2 then
    local keyable = names_of(cols)
    local keys = {}
    for j, n in ipairs(shuffle(keyable)) do if j <= math.random(2) then keys[#keys + 1] = n end end
    for _, n in ipairs(wide and { "i", "y", "x" } or {}) do   -- many groups
      if typeof(cols, n) then keys[1] = n; break end
    end
    local defs = agg_defs(cols)
    return { "group_by(" .. table.concat(keys, ", ") .. "):agg(" .. table.concat(defs, ", ") .. ")",
             function(s) return s:group_by(table.unpack(keys)):agg(table.unpack(defs)) end }, "n"
  elseif r < 0.3 then
    local defs = agg_defs(cols)
    return { "agg(" .. table.concat(defs, ", ") .. ")",
             function(s) return s:agg(table.unpack(defs)) end }, "n"
  elseif r < 0.42 then
    local n, keys = math.random(0, 15), sort_keys(cols, 2)
    return { "top(" .. n .. ", " .. table.concat(keys, ", ") .. ")",
             function(s) return s:top(n, table.unpack(keys)) end }
  elseif r < 0.52 then
    local n = math.random(0, 25)
    return { "head(" .. n .. ")", function(s) return s:head(n) end }
  elseif r < 0.64 then
    local v = shuffle(names_of(cols))
    local keys = {}
    if math.random() < 0.8 then for j = 1, math.min(#v, math.random(2)) do keys[j] = v[j] end end
    return { "distinct(" .. table.concat(keys, ", ") .. ")",
             function(s) return s:distinct(table.unpack(keys)) end }
  elseif r < 0.78 then
    local on = names_of(cols, { int = true, string = true })
    if #on == 0 or typeof(cols, "rv") then return nil end
    local key = pick(on)
    local rt = right_table(key, typeof(cols, key))
    local how = pick({ "inner", "left", "semi", "anti", "right", "full" })
    return { "join(" .. key .. ", " .. how .. ")",
             function(s) return s:join(rt, { on = key, how = how }) end }
  elseif r < 0.9 then
    local keys = sort_keys(cols, 3)
    return { "sort(" .. table.concat(keys, ", ") .. ")",
             function(s) return s:sort(table.unpack(keys)) end }
  elseif r < 0.97 then
    return window_mutate(cols)
  end
  return nil
end

-- A random plan; `final` in [0, 1) picks its last step (0.1: group_by,
-- 0.85: sort), nil at random; `wide`: a grouping by a column of many values
-- where the plan keeps one; nstream: the streaming steps before (0 to 3 at
-- random when nil).
local function make_plan(final, wide, nstream)
  local cols = {}
  for _, n in ipairs(order) do cols[#cols + 1] = { name = n, type = types[n] } end
  local steps = {}
  for _ = 1, nstream or math.random(0, 3) do steps[#steps + 1] = stream_step(cols) end
  local last, col = final_step(cols, final, wide)
  if last then
    steps[#steps + 1] = last
    if math.random() < 0.3 then
      if col and math.random() < 0.5 then
        steps[#steps + 1] = { "filter(n > 1)", function(s) return s:filter("n > 1") end }
      else
        steps[#steps + 1] = { "head(3)", function(s) return s:head(3) end }
      end
    end
  end
  local text = {}
  for j, st in ipairs(steps) do text[j] = st[1] end
  return { text = table.concat(text, " : "), steps = steps,
           spills = last and (last[1]:find("^group_by") or last[1]:find("^sort")),
           window = last and last[1]:find("^mutate%(w") }
end

local function apply(plan, s)
  for _, st in ipairs(plan.steps) do s = st[2](s) end
  return s
end

-- ---------------------------------------------------------------------------
-- Runs

local checked, spilled_runs, windowed = 0, 0, 0
local ROOM = tonumber(os.getenv("TALLY_SCAN_RANDOM_ROOM") or "") or (3 << 20)

-- Runs plan on source src under knob set ks ({ text, v = knobs }), against
-- want (the in-memory verbs' table, or their failure); limit(), when given,
-- sets the memory limit once the scan is made (its types sampled) and
-- before it runs.
local function check_plan(plan, want, src, ks, threads, what, limit)
  local ok, got = pcall(testing.with, ks.v, function()
    local s = apply(plan, src[2]())
    if limit then limit() end
    return s:collect()
  end)
  local where = string.format("seed %d, plan %s, source %s, knobs: %s, %d threads%s", SEED,
                              plan.text, src[1], ks.text, threads, what or "")
  if not want.ok then
    assert(not ok, where .. ": the in-memory verbs fail (" .. tostring(want.err) ..
                   "), the scan does not")
    return
  end
  if not ok then error(where .. ": " .. tostring(got), 0) end
  local ok2, err = pcall(same, got, want.t, where)
  if not ok2 then error(err, 0) end
  checked = checked + 1
  if plan.window then windowed = windowed + 1 end
end

local function want_of(plan, t)
  local ok, r = pcall(function()
    local x = apply(plan, t)
    assert(#x >= 0)        -- a filtered table is taken into columns when read
    return x
  end)
  return { ok = ok, t = ok and r or nil, err = not ok and r or nil }
end

-- A limit `bytes` past what is in use, once the collector has freed what
-- it can (the results of the runs before).
local function limit_room(bytes)
  collectgarbage()
  collectgarbage()
  local _, used = tally.memory_limit()
  tally.memory_limit(used + bytes)
end

-- Data set `name` of n rows: nplans random plans, each over every source,
-- knob set and count of threads; returns the sources, plans and results.
local function run_set(name, n, knob_sets, nplans, seed)
  local t = gen(n, seed)
  assert(#t == n)
  local srcs = sources(t, name)
  math.randomseed(seed + 1)
  local plans, wants = {}, {}
  for j = 1, nplans do plans[j] = make_plan() end
  for j, p in ipairs(plans) do wants[j] = want_of(p, t) end
  for _, threads in ipairs({ 1, 3 }) do
    tally.threads(threads)
    for _, ks in ipairs(knob_sets) do
      for _, src in ipairs(srcs) do
        for j, p in ipairs(plans) do check_plan(p, wants[j], src, ks, threads) end
      end
    end
  end
  return srcs, plans, wants
end

-- small files, batches of one row and one-byte morsels
run_set("small", math.floor(40 * SCALE), {
  { text = "one-row batches, one-byte morsels", v = { batch_rows = 1, morsel_bytes = 1,
                                                      chunk_size = 64 } },
}, math.floor(30 * SCALE), SEED)

-- larger files: the default cuts and small ones
local srcs, plans, wants = run_set("medium", math.floor(1500 * SCALE), {
  { text = "default", v = {} },
  { text = "batches of 97 rows, morsels of 2 kB", v = { batch_rows = 97, morsel_bytes = 2048,
                                                        chunk_size = 1000 } },
}, math.floor(30 * SCALE), SEED + 100)

-- Under a memory limit: every plan of the medium set still equals the
-- in-memory verbs; then plans ending in a grouping or a sort over more rows,
-- under a limit small enough that they spill (most of them must have).
local function under_limit(srcs, plans, wants, ks, room, spilled_by)
  local was = tally.memory_limit()
  for _, threads in ipairs({ 1, 3 }) do
    tally.threads(threads)
    for _, src in ipairs(srcs) do
      for j, p in ipairs(plans) do
        local before = testing.spill_blocks()
        local ok, err = pcall(check_plan, p, wants[j], src, ks, threads,
                              ", under a memory limit of " .. room .. " bytes more than in use",
                              function() limit_room(room) end)
        tally.memory_limit(was)
        if not ok then error(err, 0) end
        if testing.spill_blocks() > before then
          spilled_runs = spilled_runs + 1
          if spilled_by then spilled_by[src[1]] = (spilled_by[src[1]] or 0) + 1 end
        end
      end
    end
  end
end

under_limit(srcs, plans, wants, { text = "batches of 50 rows, morsels of 1 kB",
                                  v = { batch_rows = 50, morsel_bytes = 1024 } }, 4 << 20)

do
  local n = math.floor(20000 * SCALE)
  local t = gen(n, SEED + 200)
  local all = sources(t, "spill")
  local srcs2 = { all[1], all[4], all[6] }      -- csv, parquet, table
  math.randomseed(SEED + 201)
  local plans2, wants2 = {}, {}
  for j = 1, math.floor(6 * SCALE) do
    plans2[j] = make_plan(j % 2 == 0 and 0.85 or 0.1, true, j <= 2 and 0 or nil)
    wants2[j] = want_of(plans2[j], t)
  end
  local before, by = spilled_runs, {}
  under_limit(srcs2, plans2, wants2, { text = "batches of 250 rows, morsels of 4 kB",
                                       v = { batch_rows = 250, morsel_bytes = 4096 } }, ROOM, by)
  local runs = 2 * #srcs2 * #plans2
  assert(spilled_runs - before >= runs // 4, string.format(
         "only %d of %d runs under the memory limit spilled", spilled_runs - before, runs))
  for _, src in ipairs(srcs2) do assert(by[src[1]], "no run over " .. src[1] .. " spilled") end
end

assert(windowed > 0, "no window mutate was compared")
os.execute("rm -rf '" .. dir .. "'")
print(string.format("test_scan_random: ok (%d runs compared, %d of them spilled, %d of them "
                    .. "window mutates; seed %d)", checked, spilled_runs, windowed, SEED))
