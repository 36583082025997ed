-- Options tables: every function and method that takes one rejects an
-- unknown key with the same message (lt_check_options), and every function
-- of the module and method of its types is either listed here with a call
-- that passes an options table, or listed as taking none: a new function
-- fails this test until it is put in one of the two lists.
-- Run from the repository root: tally tests/lua/test_options.lua

local tally = require "tally"

local t = tally.read_csv("data/jica_training.csv")
local g = t:group_by("program")
local c = t.year
local tmp = os.tmpname()
t:save(tmp)
local parquet = "tests/data/parquet/" .. (function()
  local p = io.popen("ls tests/data/parquet")
  for name in p:lines() do
    if name:match("%.parquet$") then p:close() return name end
  end
  p:close()
end)()
local bad = { zzz_unknown = 1 }

-- The functions that take an options table, each called with `bad` there.
local takes = {
  ["tally.read_csv"] = function() return tally.read_csv("data/jica_training.csv", bad) end,
  ["tally.read_csv_string"] = function() return tally.read_csv_string("a\n1\n", bad) end,
  ["tally.read_json"] = function() return tally.read_json("x.json", bad) end,
  ["tally.read_ndjson"] = function() return tally.read_ndjson("x.ndjson", bad) end,
  ["tally.read_parquet"] = function() return tally.read_parquet(parquet, bad) end,
  ["tally.read_document"] = function() return tally.read_document({ text = "x", zzz_unknown = 1 }) end,
  ["tally.load"] = function() return tally.load(tmp, bad) end,
  ["tally.aggregate"] = function()
    return tally.aggregate{ name = "zzz_agg", init = 0, step = function(s) return s end,
                            zzz_unknown = 1 }
  end,
  ["tally.func"] = function()
    return tally.func{ name = "zzz_fn", type = "int", fn = function(x) return x end,
                       zzz_unknown = 1 }
  end,
  ["tally.options"] = function() return tally.options(bad) end,
  ["Table:show"] = function() return t:show(bad) end,
  ["Table:format"] = function() return t:format(bad) end,
  ["Table:bar"] = function() return t:bar("program", "year", bad) end,
  ["Table:plot"] = function() return t:plot{ x = "year", y = "participants", zzz_unknown = 1 } end,
  ["Table:write_csv"] = function() return t:write_csv(tmp .. ".csv", bad) end,
  ["Table:write_json"] = function() return t:write_json(tmp .. ".json", bad) end,
  ["Table:write_ndjson"] = function() return t:write_ndjson(tmp .. ".json", bad) end,
  ["Table:save"] = function() return t:save(tmp .. ".tally", bad) end,
  ["Table:join"] = function() return t:join(t, { on = "year", zzz_unknown = 1 }) end,
  ["Table:mutate"] = function() return t:mutate("y = year", bad) end,
  ["Table:pivot_longer"] = function()
    return t:pivot_longer{ cols = { "participants" }, zzz_unknown = 1 }
  end,
  ["Table:pivot_wider"] = function()
    return t:pivot_wider{ names_from = "year", values_from = "participants", zzz_unknown = 1 }
  end,
  ["Column:hist"] = function() return c:hist(bad) end,
  ["Table:write_html"] = function() return t:write_html(tmp .. ".html", bad) end,
  ["Table:write_parquet"] = function() return t:write_parquet(tmp .. ".parquet", bad) end,
  ["Table:write"] = function() return t:write(tmp .. ".csv", bad) end,
  ["tally.read"] = function() return tally.read("data/jica_training.csv", bad) end,
  ["tally.scan"] = function() return tally.scan("data/jica_training.csv", bad) end,
  ["tally.read_arrow"] = function() return tally.read_arrow(tmp .. ".arrow", bad) end,
  ["Table:write_arrow"] = function() return t:write_arrow(tmp .. ".arrow", bad) end,
  ["Scan:join"] = function()
    return tally.scan(t):join(t, { on = "year", zzz_unknown = 1 })
  end,
  ["Scan:write_parquet"] = function()
    return tally.scan(t):write_parquet(tmp .. ".parquet", bad)
  end,
  ["Scan:write_arrow"] = function() return tally.scan(t):write_arrow(tmp .. ".arrow", bad) end,
  ["Report:table"] = function() return tally.report("r"):table(t, bad) end,
  ["Report:chart"] = function()
    return tally.report("r"):chart(t, { x = "year", y = "participants", zzz_unknown = 1 })
  end,
}
-- A second check of the same functions: a near miss gets a suggestion.
local near = {
  ["Table:write_csv"] = { function() return t:write_csv(tmp .. ".csv", { spe = ";" }) end, "sep" },
  ["tally.options"] = { function() return tally.options{ digit = 3 } end, "digits" },
  ["Table:show"] = { function() return t:show{ widht = 3 } end, "width" },
  ["Table:join"] = { function() return t:join(t, { on = "year", hwo = "left" }) end, "how" },
  ["Column:hist"] = { function() return c:hist{ bin = 3 } end, "bins" },
}

-- The functions that take no options table.
local none = {}
for name in ([[
  tally.clock tally.from_arrow tally.from_columns tally.from_rows tally.help tally.threads
  Table:agg Table:col Table:concat Table:describe Table:distinct Table:drop Table:filter
  Table:group_by Table:head Table:meta Table:names Table:ncol Table:rejects Table:rename
  Table:rows Table:schema Table:select Table:slice Table:sort Table:tail Table:title
  Table:to_arrow Table:to_markdown Table:top Table:totable
  Column:count Column:count_distinct Column:eq Column:ge Column:gt Column:is_null Column:isin
  Column:le Column:lt Column:max Column:mean Column:median Column:min Column:name Column:ne
  Column:nulls Column:quantile Column:stddev Column:sum Column:totable Column:type
  Column:unique Column:value_counts Column:var
  Grouping:agg Grouping:apply Grouping:count Grouping:groups Grouping:keys
  Row:totable
  tally.report Report:heading Report:text Report:write
  tally.memory_limit Scan:agg Scan:collect Scan:distinct Scan:drop Scan:explain Scan:filter
  Scan:group_by Scan:head Scan:mutate Scan:names Scan:rename Scan:select Scan:sort Scan:top
  Scan:write_csv
]]):gmatch("%S+") do none[name] = true end

-- Every public function of the module and method of its types, found at
-- run time (a type added later, such as a scan, is walked when it exists).
local function methods_of(tname)
  local mt = debug.getregistry()["tally." .. tname]
  if type(mt) ~= "table" then return nil end
  local idx = mt.__index
  if type(idx) == "function" then
    local _, up = debug.getupvalue(idx, 1)
    idx = up
  end
  return type(idx) == "table" and idx or nil
end

local all = {}
for k, v in pairs(tally) do
  if type(v) == "function" and not k:match("^_") then all[#all + 1] = "tally." .. k end
end
for _, tname in ipairs{ "Table", "Column", "Grouping", "Row", "Scan", "Report" } do
  for k, v in pairs(methods_of(tname) or {}) do
    if type(v) == "function" and not k:match("^_") then all[#all + 1] = tname .. ":" .. k end
  end
end
table.sort(all)
assert(#all > 80, #all)

local missing = {}
for _, name in ipairs(all) do
  if not takes[name] and not none[name] then missing[#missing + 1] = name end
  assert(not (takes[name] and none[name]), name .. " is in both lists")
end
assert(#missing == 0, "functions in neither list (do they take options?): "
       .. table.concat(missing, ", "))

-- the functions that hand their options to the reader or writer of the
-- file's format, whose name the error gives
local via = { ["Table:write"] = "write_csv", ["tally.read"] = "read_csv" }
for name, f in pairs(takes) do
  local ok, err = pcall(f)
  local op = via[name] or name:match("[.:](.*)$")
  assert(not ok, name .. ": an unknown option was accepted")
  local want = op .. ": unknown option 'zzz_unknown'"
  assert(tostring(err):find(want, 1, true),
         string.format("%s: expected %q, got %q", name, want, tostring(err)))
end
for name, case in pairs(near) do
  local ok, err = pcall(case[1])
  assert(not ok and tostring(err):find("(did you mean '" .. case[2] .. "'?)", 1, true),
         name .. ": " .. tostring(err))
end
-- a function without options says so
local ok, err = pcall(t.write_json, t, tmp .. ".json", { pretty = true })
assert(not ok and err:find("write_json: unknown option 'pretty' (write_json takes no options)",
                           1, true), err)

-- write_csv's options: sep, header, null, quote, dateformat
do
  local w = tally.read_csv_string('a,d,n\nx;y,2024-01-31,1.5\nNA,,\n"",2024-02-29,2\n',
                                  { null = { "" }, types = { d = "date" } })
  local path = tmp .. ".csv"
  local function written(opts)
    w:write_csv(path, opts)
    local f = assert(io.open(path, "rb"))
    local s = f:read("a")
    f:close()
    return s
  end
  assert(written() == 'a,d,n\nx;y,2024-01-31,1.5\nNA,,\n"",2024-02-29,2.0\n', written())
  local s = written{ sep = ";", null = "NA", quote = "'", header = false,
                     dateformat = "%d/%m/%Y %a" }
  assert(s == "'x;y';31/01/2024 Wed;1.5\n'NA';NA;NA\n'';29/02/2024 Thu;2.0\n", s)
  -- what it wrote reads back (read_csv knows the '"' quote only)
  written{ sep = ";", null = "NA", header = false }
  local back = tally.read_csv(path, { sep = ";", header = false, null = { "NA" } })
  assert(#back == 3 and back[1][1] == "x;y" and back[2][1] == "NA" and back[2][2] == nil, s)
  for _, case in ipairs{
    { { sep = ";;" }, "write_csv: option 'sep' must be a one-character string" },
    { { sep = "\n" }, "write_csv: the separator must be one character, not a line end" },
    { { quote = "," }, "write_csv: the separator must be one character, not a line end or the quote" },
    { { null = "a,b" }, "write_csv: the null text cannot hold the separator" },
    { { header = 1 }, "write_csv: option 'header' must be a boolean, got number" },
    { { dateformat = 5 }, "write_csv: option 'dateformat' must be a string, got number" },
  } do
    local ok, err = pcall(w.write_csv, w, path, case[1])
    assert(not ok and err:find(case[2], 1, true), tostring(err))
  end
end

-- Argument errors name the function, even when it is called from C (here
-- through pcall, where Lua sees no name at the call): never '?'.
for _, name in ipairs(all) do
  local tname, m = name:match("^(%u%w*):(.*)$")
  if tname then
    local ok, err = pcall(methods_of(tname)[m], 12345)
    assert(not ok, name .. " accepted a number as self")
    assert(not tostring(err):find("to '?'", 1, true), name .. ": " .. tostring(err))
    assert(tostring(err):find(m, 1, true), name .. ": " .. tostring(err))
  end
end
local ok2, err2 = pcall(t.join, t, t, 3)
assert(not ok2 and err2:find("bad argument #3 to 'tally.Table.join'", 1, true), err2)
ok2, err2 = pcall(tally.read_csv, "data/jica_training.csv", 3)
assert(not ok2 and err2:find("bad argument #2 to 'tally.read_csv'", 1, true), err2)

os.remove(tmp)
os.remove(tmp .. ".csv")
os.remove(tmp .. ".json")
print("test_options: ok")
