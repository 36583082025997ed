-- The reference pages: every function of the module and method of its types
-- (walked at run time) is in docs/lua-api.md; every environment variable the
-- sources read is in docs/cli.md; every function of the public header is in
-- docs/c-api.md; when docs/expressions.md exists, every
-- expression function help() lists is in it.
-- Run from the repository root: tally tests/lua/test_docs.lua

local exe = assert(arg[-1], "run this script with the tally executable")

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function has(text, s) return text:find(s, 1, true) ~= nil end

local api = slurp("docs/lua-api.md")
local vars = { Table = "t", Column = "c", Grouping = "g", Row = "r", Scan = "s" }
local missing = {}

-- (no undocumented entries, not even with a leading '_': what only the tests
-- use is in tally.testing, which the test runner alone has)
for k, v in pairs(tally) do
  if not has(api, "tally." .. k) then
    missing[#missing + 1] = "tally." .. k .. " (" .. type(v) .. ")"
  end
end
for tname, var in pairs(vars) do
  local mt = debug.getregistry()["tally." .. tname]
  local idx = type(mt) == "table" and mt.__index or nil
  if type(idx) == "function" then
    local _, up = debug.getupvalue(idx, 1)
    idx = up
  end
  for k, f in pairs(type(idx) == "table" and idx or {}) do
    if type(f) == "function" and not has(api, var .. ":" .. k) then
      missing[#missing + 1] = var .. ":" .. k
    end
  end
end
table.sort(missing)
assert(#missing == 0, "docs/lua-api.md lacks: " .. table.concat(missing, ", "))

-- every environment variable read with getenv
local cli = slurp("docs/cli.md")
local p = assert(io.popen([[grep -rhoE 'getenv\("[A-Z_]+"\)' core bindings]]))
local nvars = 0
for name in p:read("a"):gmatch('getenv%("([A-Z_]+)"%)') do
  nvars = nvars + 1
  assert(has(cli, "`" .. name .. "`"), "docs/cli.md lacks the environment variable " .. name)
end
p:close()
assert(nvars >= 5 and has(cli, "`TALLY_HISTORY`"), nvars)

-- every function the public header exports (docs/c-api.md is generated from
-- it by scripts/c_api_doc.py)
local capi, header = slurp("docs/c-api.md"), slurp("core/include/tally/tally.h")
local nfun = 0
for decl in header:gmatch("TL_API[^;]-;") do
  local name = decl:match("([%w_]+)%s*%(")
  if name then
    nfun = nfun + 1
    assert(has(capi, name .. "("), "docs/c-api.md lacks " .. name
           .. " (python3 scripts/c_api_doc.py > docs/c-api.md)")
  end
end
assert(nfun > 150, nfun)

-- expression functions, from the core's registry as help() lists them
local f = io.open("docs/expressions.md", "rb")
if f then
  local expr = f:read("a")
  f:close()
  local h = assert(io.popen(string.format("%q -e 'help()'", exe)))
  local listing = h:read("a"):match("In expressions.-\n(.*)$")
  h:close()
  local n = 0
  for line in listing:gmatch("\n  ([^\n]+)") do
    for name in line:gmatch("[%a_][%w_]*") do
      n = n + 1
      assert(has(expr, name .. "("), "docs/expressions.md lacks " .. name)
    end
  end
  assert(n > 30, n)
end

print("test_docs: ok")
