-- lua_common.lua -- what lua_agg.lua and lua_func.lua share: the table of costs they
-- run on, and medians of timed runs. Loaded with dofile next to the script.
local M = {}

-- The positive `cost` values of PATH (a saved .tally table or a CSV); without a
-- path, 10 M generated costs.
function M.costs(path)
  local t
  if path and path:match("%.tally$") then
    t = tally.load(path):select("cost")
  elseif path then
    t = tally.read_csv(path, { columns = { "cost" } })
  else
    local n, v, seed = 10000000, {}, 42
    for i = 1, n do
      seed = (seed * 1103515245 + 12345) % 2147483648
      v[i] = 1 + seed % 100000 / 10
    end
    t = tally.from_columns{ { "cost", v } }
  end
  return t:filter("cost > 0")   -- the loops get the values the steps and calls get
end

local function median(xs)
  table.sort(xs)
  return xs[(#xs + 1) // 2]
end

-- The median time of `reps` runs of fn, each after a full collection.
function M.time(fn, reps)
  local ts = {}
  for r = 1, reps do
    collectgarbage()
    local t0 = tally.clock()
    fn()
    ts[r] = tally.clock() - t0
  end
  return median(ts)
end

-- The thread counts to run on: 1, and all of tally.threads() when more.
function M.thread_counts()
  local n = tally.threads()
  return n > 1 and { 1, n } or { 1 }
end

-- One line of a report: what, its time, rows per second and its time over the loop's.
function M.line(what, th, secs, n, loop)
  return string.format("%-24s %d thread%s %.3f s  %6.1f M rows/s  %.2fx the loop",
                       what, th, th > 1 and "s" or " ", secs, n / secs / 1e6, secs / loop)
end

return M
