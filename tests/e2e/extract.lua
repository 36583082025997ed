-- The extract script on the seed report (a copy in tests/data): the CSV
-- files it writes must equal those in data/, byte for byte.
local seed = "tests/data/police-international-cooperation.txt"
local out = os.tmpname()
os.remove(out)
assert(os.execute("mkdir -p '" .. out .. "'"))
arg = { [0] = "scripts/extract.lua", seed, out }
local real_print = print
print = function(s)                     -- the temporary directory varies: hide it
  real_print((s:gsub(out:gsub("%W", "%%%0"), "OUTDIR")))
end
dofile("scripts/extract.lua")
print = real_print

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
for _, name in ipairs({ "jica_training.csv", "jdr_dispatches.csv" }) do
  local same = slurp(out .. "/" .. name) == slurp("data/" .. name)
  print(name .. ": " .. (same and "identical to data/" or "DIFFERS from data/"))
  os.remove(out .. "/" .. name)
end
os.remove(out)
