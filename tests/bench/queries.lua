-- Benchmark queries q1..q7 over the synthetic trainings table, written with the tally
-- Lua API. They compute what the anchors in ../shared/bench/anchors compute (duck.js,
-- lua_anchor.lua), so that timings and results can be set side by side.
--
--   tally tests/bench/queries.lua proc QUERY CSV
--       whole process: read the CSV, run one query, print its result on stdout
--   tally tests/bench/queries.lua mem CSV [REPS] [QUERY...]
--       read the CSV once (timed), run each query REPS times (default 5) and report the
--       median, print each result once; then time t:save and tally.load of the table
--
-- Timings go to stderr as "@time LABEL SECONDS [min=S max=S]" (tally.clock, wall seconds).
-- Environment: TALLY_BENCH_THREADS=N calls tally.threads(N) first; TALLY_BENCH_SAVE is
-- where mem mode saves the table (default: data/t.tally next to this script).
-- A query that needs a part of the API the engine does not have yet is reported as
-- "@unsupported LABEL REASON" (exit status 3 in proc mode); any other error as
-- "@fail LABEL MESSAGE" (exit status 1). Nothing is skipped without a line saying so.
--
-- In proc mode every query runs as a lazy scan of the file (tally.scan(csv)...:collect(),
-- see SCAN below); TALLY_BENCH_READ=1 has q1-q6 read the columns they need with read_csv
-- first instead, as earlier runs did.
--
-- Results are printed one row per line, fields separated by tabs, nulls as empty fields,
-- so they can be compared with the anchors' output. In mem mode each result is preceded
-- by a line "== LABEL".
--
-- Queries (q5lua is q5 with the geometric mean written as a Lua aggregate):
--   q1  count(*)
--   q2  sum(participants), mean(cost), min(year), max(year)
--   q3  per program: count, sum(participants), mean(cost)
--   q4  year >= 2010 and region == 'Asia': per country and year sum(participants), top 10
--   q5  per program: exp(mean(ln(cost))), quantile(participants, 0.9)
--   q6  per program: count_distinct(country)
--   q7  the 10 rows with the highest cost

local tally = rawget(_G, "tally") or require("tally")

local ALL = { "q1", "q2", "q3", "q4", "q5", "q5lua", "q6", "q7" }

---------------------------------------------------------------------------------------
-- the queries

local Q = {}

function Q.q1(t)
  return #t
end

function Q.q2(t)
  return t:agg("sum_p = sum(participants)", "avg_cost = mean(cost)",
               "min_y = min(year)", "max_y = max(year)")
end

function Q.q3(t)
  return t:group_by("program")
          :agg("n = count()", "sum_p = sum(participants)", "avg_cost = mean(cost)")
          :sort("program")
end

function Q.q4(t)
  return t:filter("year >= 2010 and region == 'Asia'")
          :group_by("country", "year")
          :agg("s = sum(participants)")
          :top(10, "-s", "country", "year")
end

function Q.q5(t)
  return t:group_by("program")
          :agg("geomean_cost = exp(mean(ln(cost)))", "p90 = quantile(participants, 0.9)")
          :sort("program")
end

function Q.q5lua(t)
  return t:group_by("program")
          :agg("geomean_cost = geomean(cost)", "p90 = quantile(participants, 0.9)")
          :sort("program")
end

function Q.q6(t)
  return t:group_by("program")
          :agg("n_country = count_distinct(country)")
          :sort("program")
end

function Q.q7(t)
  return t:top(10, "-cost")
end

-- Work a query needs before it can run, outside the timed region.
local PREPARE = {}

-- The geometric mean as a custom aggregate, driven by the C scan: the state is a pair
-- (sum of ln x, count); step_batch gets a group's values of a batch of rows in a Lua
-- array (a call per group and batch, not per row); partial states from different
-- threads are merged.
function PREPARE.q5lua()
  local log, exp = math.log, math.exp
  tally.aggregate{
    name  = "geomean",
    init  = function() return { s = 0.0, n = 0 } end,
    step_batch = function(st, xs, k)
      local s = st.s
      for i = 1, k do s = s + log(xs[i]) end
      st.s = s; st.n = st.n + k
      return st
    end,
    merge = function(a, b) a.s = a.s + b.s; a.n = a.n + b.n; return a end,
    final = function(st) if st.n > 0 then return exp(st.s / st.n) end end,
  }
end

---------------------------------------------------------------------------------------
-- reporting

local stderr = io.stderr

local function say(fmt, ...)
  stderr:write(string.format(fmt, ...), "\n")
end

local clock = tally.clock
if type(clock) ~= "function" then
  say("@warn tally.clock is missing: timings below are CPU seconds (os.clock)")
  clock = os.clock
end

-- Worker threads: TALLY_BENCH_THREADS=N, else the engine's default (all cores).
local threads = tonumber(os.getenv("TALLY_BENCH_THREADS") or "")
if threads then
  if type(tally.threads) == "function" then
    tally.threads(threads)
  else
    say("@warn tally.threads is missing: running with the engine's default threads")
  end
end

-- Errors that mean "this part of the API does not exist yet" rather than "it is wrong":
-- calling or indexing a method, field or column that is not there (raised by the code
-- in this file), or the engine saying that it does not know a function.
local MISSING_HERE = {
  "attempt to call a nil value", "attempt to index a nil value", "attempt to get length of a",
}
local MISSING = {
  "not implemented", "unsupported", "not supported", "unknown function",
  "unknown aggregate", "no such function", "no such method", "unknown method",
}
local here = (arg and arg[0] or "queries.lua"):match("[^/]*$")
-- A table looks an unknown key up as a column, so a method it does not have yet can
-- also surface as "unknown column 'group_by'".
local METHODS = {}
for name in ("agg col filter group_by names save sort top sum mean min max"):gmatch("%S+") do
  METHODS[name] = true
end

local function first_line(msg)
  msg = tostring(msg):gsub("^%s+", "")
  return (msg:match("^[^\n]*"))
end

local function classify(msg)
  local m = first_line(msg)
  if m:find(here .. ":", 1, true) then
    for _, pat in ipairs(MISSING_HERE) do
      if m:find(pat, 1, true) then return "unsupported" end
    end
  end
  local col = m:match("unknown column '([%w_]+)'")
  if col and METHODS[col] then return "unsupported" end
  m = m:lower()
  for _, pat in ipairs(MISSING) do
    if m:find(pat, 1, true) then return "unsupported" end
  end
  return "fail"
end

-- Returns true, ... on success; false, kind, message on error.
local function try(f, ...)
  local r = table.pack(pcall(f, ...))
  if r[1] then return table.unpack(r, 1, r.n) end
  return false, classify(r[2]), first_line(r[2])
end

local null = tally.null

local function cell(v)
  if v == nil or (null ~= nil and v == null) then return "" end
  local mt = math.type(v)
  if mt == "integer" then return string.format("%d", v) end
  if mt == "float" then return string.format("%.15g", v) end
  return tostring(v)
end

-- A result as lines of tab-separated cells: a number, a packed array (one row), or a table.
local function result_lines(res)
  if type(res) == "table" and getmetatable(res) == nil then
    local row = {}
    for j = 1, res.n or #res do row[j] = cell(res[j]) end
    return { table.concat(row, "\t") }
  elseif type(res) ~= "userdata" and type(res) ~= "table" then
    return { cell(res) }
  end
  local names = res:names()
  local cols = {}
  for j = 1, #names do cols[j] = res:col(names[j]) end
  local lines = {}
  for i = 1, #res do
    local row = {}
    for j = 1, #cols do row[j] = cell(cols[j][i]) end
    lines[i] = table.concat(row, "\t")
  end
  return lines
end

local function print_result(res)
  local lines = result_lines(res)
  io.stdout:write(table.concat(lines, "\n"), #lines > 0 and "\n" or "")
end

local function median(xs)
  local s = { table.unpack(xs) }
  table.sort(s)
  return s[(#s + 1) // 2], s[1], s[#s]
end

-- The columns each query reads: a whole-process run reads only those, as an
-- analyst would ask for (DuckDB finds them itself from the SQL).
local COLUMNS = {
  q1 = { "id" },
  q2 = { "participants", "cost", "year" },
  q3 = { "program", "participants", "cost" },
  q4 = { "year", "region", "country", "participants" },
  q5 = { "program", "cost", "participants" },
  q5lua = { "program", "cost", "participants" },
  q6 = { "program", "country" },
}

local function load_csv(csv, q)
  if type(tally.read_csv) ~= "function" then
    return false, "unsupported", "tally.read_csv is missing"
  end
  if q and COLUMNS[q] then return try(tally.read_csv, csv, { columns = COLUMNS[q] }) end
  return try(tally.read_csv, csv)
end

---------------------------------------------------------------------------------------
-- modes

local function usage()
  stderr:write("usage: tally queries.lua proc QUERY CSV\n",
               "       tally queries.lua mem CSV [REPS] [QUERY...]\n",
               "queries: ", table.concat(ALL, " "), "\n")
  os.exit(2)
end

-- Whole-process queries run as lazy scans of the file rather than over a table read
-- first, as DuckDB's query over read_csv and Polars' scanCSV do: the scan reads only
-- the columns the query needs, batch by batch, and keeps only what the query keeps
-- (q1 counts records without reading a field; q7 reads the cost of every row and the
-- whole of only the ten rows it keeps). The verbs are those of the in-memory queries.
local SCAN = {}
function SCAN.q1(csv)
  return tally.scan(csv):agg("n = count()"):collect():col("n")[1]
end
for _, q in ipairs(ALL) do
  if q ~= "q1" then
    SCAN[q] = function(csv) return Q[q](tally.scan(csv)):collect() end
  end
end

local function proc_scan(q, csv)
  if PREPARE[q] then
    local ok, kind, msg = try(PREPARE[q])
    if not ok then say("@%s %s %s", kind, q, msg); os.exit(kind == "unsupported" and 3 or 1) end
  end
  local t0 = clock()
  local ok, res, msg = try(SCAN[q], csv)
  local elapsed = clock() - t0
  if ok then ok, res, msg = try(print_result, res) end
  if not ok then
    say("@%s %s %s", res, q, msg)
    os.exit(res == "unsupported" and 3 or 1)
  end
  say("@time %s %.6f", q, elapsed)
end

local function proc(q, csv)
  if not Q[q] or not csv then usage() end
  local read_first = os.getenv("TALLY_BENCH_READ") == "1" and q ~= "q7"   -- as earlier runs
  if SCAN[q] and type(tally.scan) == "function" and not read_first then
    return proc_scan(q, csv)
  end
  local t0 = clock()
  local ok, kind, msg = load_csv(csv, q)
  if not ok then
    say("@%s %s read_csv: %s", kind, q, msg)
    os.exit(kind == "unsupported" and 3 or 1)
  end
  local t = kind
  say("@time load %.6f", clock() - t0)
  if PREPARE[q] then
    ok, kind, msg = try(PREPARE[q])
    if not ok then say("@%s %s %s", kind, q, msg); os.exit(kind == "unsupported" and 3 or 1) end
  end
  t0 = clock()
  local res
  ok, res, msg = try(Q[q], t)
  local elapsed = clock() - t0
  if ok then ok, res, msg = try(print_result, res) end
  if not ok then
    say("@%s %s %s", res, q, msg)
    os.exit(res == "unsupported" and 3 or 1)
  end
  say("@time %s %.6f", q, elapsed)
end

-- t:save / tally.load, if the engine has them.
local function save_and_reload(t, reps, dir)
  local path = os.getenv("TALLY_BENCH_SAVE") or (dir .. "/data/t.tally")
  local has_save = select(2, pcall(function() return t.save end))
  if type(has_save) ~= "function" or type(tally.load) ~= "function" then
    local why = type(has_save) ~= "function" and "t:save is missing" or "tally.load is missing"
    say("@unsupported save %s", why)
    say("@unsupported load_saved %s", why)
    return true
  end
  collectgarbage("collect")
  local t0 = clock()
  local ok, kind, msg = try(t.save, t, path)
  if not ok then
    say("@%s save %s", kind, msg); say("@%s load_saved %s", kind, "nothing saved")
    return kind ~= "fail"
  end
  say("@time save %.6f", clock() - t0)
  local ts, u = {}, nil
  for r = 1, reps do
    u = nil
    collectgarbage("collect")
    t0 = clock()
    ok, kind, msg = try(tally.load, path)
    ts[r] = clock() - t0
    if not ok then say("@%s load_saved %s", kind, msg); return kind ~= "fail" end
    u = kind
  end
  if #u ~= #t or #u:names() ~= #t:names() then
    say("@fail load_saved reloaded %d rows x %d columns, saved %d x %d",
        #u, #u:names(), #t, #t:names())
    return false
  end
  say("@time load_saved %.6f min=%.6f max=%.6f", median(ts))
  return true
end

local function mem(csv, reps, qs, dir)
  local t0 = clock()
  local ok, kind, msg = load_csv(csv)
  if not ok then
    say("@%s load read_csv: %s", kind, msg)
    for _, q in ipairs(qs) do say("@%s %s the CSV could not be loaded", kind, q) end
    os.exit(kind == "unsupported" and 3 or 1)
  end
  local t = kind
  say("@time load %.6f", clock() - t0)
  local failed = false
  for _, q in ipairs(qs) do
    local res, ts = nil, {}
    ok, kind, msg = true, nil, nil
    if PREPARE[q] then ok, kind, msg = try(PREPARE[q]) end
    for r = 1, reps do
      if not ok then break end
      res = nil
      collectgarbage("collect")
      t0 = clock()
      ok, kind, msg = try(Q[q], t)
      ts[r] = clock() - t0
      res = kind
    end
    if ok then
      io.stdout:write("== ", q, "\n")
      ok, kind, msg = try(print_result, res)
    end
    if ok then
      say("@time %s %.6f min=%.6f max=%.6f", q, median(ts))
    else
      say("@%s %s %s", kind, q, msg)
      failed = failed or kind == "fail"
    end
    io.stdout:flush()
  end
  if not save_and_reload(t, reps, dir) then failed = true end
  if failed then os.exit(1) end
end

local mode = arg[1]
local dir = (arg[0] or ""):match("^(.*)/[^/]*$") or "."
if mode == "proc" then
  proc(arg[2], arg[3])
elseif mode == "mem" then
  local csv = arg[2]
  if not csv then usage() end
  local reps, first = 5, 3
  if arg[3] and arg[3]:match("^%d+$") then reps, first = tonumber(arg[3]), 4 end
  if reps < 1 then usage() end
  local qs = {}
  for k = first, #arg do
    if not Q[arg[k]] then usage() end
    qs[#qs + 1] = arg[k]
  end
  if #qs == 0 then qs = ALL end
  mem(csv, reps, qs, dir)
else
  usage()
end
