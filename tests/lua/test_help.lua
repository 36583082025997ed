-- help(): every function of the module and every method of its types (found
-- at run time, so a type added later is checked once it exists) has an
-- entry; an unknown topic says so and suggests a near name.
-- Run from the repository root: tally tests/lua/test_help.lua

local exe = assert(arg[-1], "run this script with the tally executable")

-- help prints to the standard output: run it in a child and read that.
local function run(code)
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(code)
  f:close()
  local p = assert(io.popen(string.format("%q %q", exe, script)))
  local out = p:read("a")
  p:close()
  os.remove(script)
  return out
end

local out = run([=[
local function methods_of(tname)
  local mt = debug.getregistry()["tally." .. tname]
  if type(mt) ~= "table" then return nil end
  local idx = mt.__index
  if type(idx) == "function" then local _, up = debug.getupvalue(idx, 1) idx = up end
  return type(idx) == "table" and idx or nil
end
local names = {}
for k, v in pairs(tally) do
  if type(v) == "function" and not k:match("^_") then names[#names + 1] = "tally." .. k end
end
for _, tname in ipairs{ "Table", "Column", "Grouping", "Row", "Scan" } do
  for k, v in pairs(methods_of(tname) or {}) do
    if type(v) == "function" and not k:match("^_") then names[#names + 1] = tname .. ":" .. k end
  end
end
table.sort(names)
for _, name in ipairs(names) do
  io.write("@@ ", name, "\n") io.flush()
  help(name)
  io.stdout:flush()
end
]=])

local count, bad = 0, {}
for name, text in out:gmatch("@@ (%S+)\n(.-)%f[@\0]") do
  count = count + 1
  -- an entry is a signature line, then an indented description
  if text:find("no help for", 1, true) or not text:match("^[^\n]+\n  %S") then
    bad[#bad + 1] = name
  end
end
assert(count > 80, "only " .. count .. " names walked:\n" .. out)
assert(#bad == 0, "no help entry for: " .. table.concat(bad, ", "))

-- the reshaping verbs, asked for by their short names
out = run('help("pivot_wider") help("pivot_longer")')
assert(out:find("t:pivot_wider{ names_from, values_from", 1, true), out)
assert(out:find("t:pivot_longer{ cols", 1, true), out)

-- an unknown topic says so, with a near name when there is one
out = run('help("pivto_wider") help("Table:filtr") help("substrr") help("zzzzzzzz")')
assert(out:find("no help for 'pivto_wider' (did you mean 'pivot_wider'?)", 1, true), out)
assert(out:find("no help for 'Table:filtr' (did you mean 'Table:filter'?)", 1, true), out)
assert(out:find("no help for 'substrr' (did you mean 'substr'?)", 1, true), out)
assert(out:find("no help for 'zzzzzzzz'; help() lists what there is", 1, true), out)

-- expression functions come from the core's registry, SQL equivalents included
out = run('help("substr") help("log")')
assert(out:find("SQL substr(s, i, n) is substr(s, i, i + n - 1)", 1, true), out)
assert(out:find("base 10 (SQL log10", 1, true), out)

-- help() lists the types that exist, each with its methods
out = run("help()")
assert(out:find("Row methods", 1, true) and out:find("r:totable", 1, true), out)
assert(out:find("tally.options", 1, true), out)

print("test_help: ok")
