-- Scans that read less than the rows: a count that reads no column (the records
-- counted, none parsed) and a top over a CSV file materialized late (the keys
-- read first, the survivors' rows at the end). On random files with quoted
-- fields holding separators, quotes and line ends, CRLF and blank lines, with
-- spans and pieces down to one byte (the morsel_bytes and chunk_size knobs) on 1
-- and 3 threads, each must equal the in-memory verbs on read_csv of the file,
-- ties in the file's order; a '"' inside an unquoted field, which the count
-- cannot trust, must give the tokenizer's count; a record with too few or too
-- many fields, or too long, read_csv's error.
-- Run from the repository root: tally tests/lua/test_scan_late.lua

local tally = require "tally"
local testing = require "tally.testing"

local check = require "tests.lua.scan_check"
local check_error, same = check.check_error, check.same

local dir = check.tempdir()
local serial = 0
local function put(text)
  serial = serial + 1
  local p = string.format("%s/f%d.csv", dir, serial)
  local f = assert(io.open(p, "wb"))
  f:write(text)
  f:close()
  return p
end

local plain = { "alpha", "beta", '"gamma, with a comma"', '"say ""hi"""', '"delta\nline"', "",
                '"two\r\nlines, ""quoted"""', '""', '"'..'a,b\n\n,c"' }
local stray = { 'a 5" disk', 'x"y' }

-- n records; `strays` mixes in fields with a '"' inside unquoted text; blank
-- lines and CRLF now and then; x from few values, so that the top meets ties.
local function gen(n, seed, strays)
  math.randomseed(seed)
  local out = { "k,g,x,y" }
  for i = 1, n do
    local g = plain[math.random(#plain)]
    if strays and math.random(7) == 1 then g = stray[math.random(#stray)] end
    local y = math.random(5) == 1 and "" or tostring(math.random(-50, 50))
    local x = math.random(6) == 1 and "" or string.format("%.1f", math.random(0, 12) / 2)
    out[#out + 1] = string.format("%d,%s,%s,%s%s", math.random(0, 4), g, x, y,
                                  math.random(9) == 1 and "\r" or "")
    if math.random(15) == 1 then out[#out + 1] = "" end
  end
  return table.concat(out, "\n") .. (seed % 2 == 0 and "\n" or "")
end

local types = { k = "int", g = "string", x = "float", y = "int" }

local function count_of(path, knobs, opts)
  return testing.with(knobs, function()
    local r = tally.scan(path, opts or { types = types }):agg("n = count()"):collect()
    return r:col("n")[1]
  end)
end

local tops = {
  { "-x", function(s) return s:top(7, "-x") end },
  { "x", function(s) return s:top(1, "x") end },
  { "k,-x", function(s) return s:top(12, "k", "-x") end },
  { "-y,g", function(s) return s:top(5, "-y", "g") end },
  { "all", function(s) return s:top(100000, "-x") end },
  { "after", function(s) return s:top(9, "-x"):sort("y") end },
}

local function check_file(path, knobs, threads, what)
  tally.threads(threads)
  local t = tally.read_csv(path, { types = types })
  local label = string.format("%s (%s, %d threads)", what, next(knobs) and
                              (knobs.morsel_bytes or "-") .. "/" .. (knobs.chunk_size or "-") or
                              "default", threads)
  local n = count_of(path, knobs)
  assert(n == #t, string.format("%s: count %s vs %d", label, tostring(n), #t))
  for _, p in ipairs(tops) do
    local got = testing.with(knobs, function()
      return p[2](tally.scan(path, { types = types })):collect()
    end)
    same(got, p[2](t), label .. ": top " .. p[1])
  end
end

local knob_sets = { {}, { morsel_bytes = 1 }, { morsel_bytes = 7, chunk_size = 3 },
                    { morsel_bytes = 64, chunk_size = 1 }, { morsel_bytes = 1000, chunk_size = 64 },
                    { morsel_bytes = 4096 } }

for seed = 1, 4 do
  local files = { { put(gen(40, seed)), "plain" }, { put(gen(200, seed + 10)), "plain" },
                  { put(gen(200, seed + 20, true)), "stray quotes" } }
  for _, f in ipairs(files) do
    for _, threads in ipairs({ 1, 3 }) do
      for _, knobs in ipairs(knob_sets) do check_file(f[1], knobs, threads, f[2]) end
    end
    os.remove(f[1])
  end
end

-- edge files: no record, no trailing line end, a header alone, CRLF throughout,
-- blank lines only, a quoted field at a line's start holding a line end
local edges = {
  "k,g,x,y\n",
  "k,g,x,y",
  "k,g,x,y\r\n1,a,2.5,3\r\n\r\n2,\"b\r\nc\",1.5,\r\n",
  "k,g,x,y\n\n\n1,a,0.5,1\n\n",
  "k,g,x,y\n1,\"\n\",0.5,1\n2,\"\"\"\",0.5,2",
  "\xEF\xBB\xBFk,g,x,y\n3,\"x,\"\"y\",1,1\n",
}
for i, text in ipairs(edges) do
  local p = put(text)
  for _, threads in ipairs({ 1, 3 }) do
    for _, knobs in ipairs(knob_sets) do check_file(p, knobs, threads, "edge " .. i) end
  end
  os.remove(p)
end

-- a one-column file: a blank line is a record there (of a null)
do
  local p = put("v\n1\n\n2\n")
  local n = count_of(p, { morsel_bytes = 1 }, {})
  assert(n == #tally.read_csv(p) and n == 3, "one column: " .. tostring(n))
  os.remove(p)
end

-- an unterminated quoted field: the count falls back to the reader, which says so
do
  local p = put('k,g,x,y\n1,"open,1,2\n2,b,1,1\n')
  local want = select(2, pcall(tally.read_csv, p, { types = types }))
  want = tostring(want):match("unterminated[^\n]*") or "unterminated"
  check_error("unterminated", count_of, p, {})
  check_error("unterminated", count_of, p, { morsel_bytes = 5 })
  assert(want:find("unterminated", 1, true))
  os.remove(p)
end

-- a bad value in a key column: the top fails naming its line, as the reader does
do
  local p = put("k,g,x,y\n1,a,1.5,1\n2,b,oops,2\n3,c,2.5,3\n")
  local _, want = pcall(tally.read_csv, p, { types = types })
  want = tostring(want):match("read_csv: .*")
  assert(want:find(":3:3 (column 'x', record 2)", 1, true), want)
  check_error(want, function()
    return tally.scan(p, { types = types }):top(2, "-x"):collect()
  end)
  os.remove(p)
end

-- morsels cut by the quotes' parity: a bad value far into the file (after quoted
-- line ends, CRLF and blank lines), past the sample, is reported at the line and
-- record read_csv says
for seed = 31, 34 do
  local head, tail = gen(150, seed):gsub("\n$", ""), gen(20, seed + 100):gsub("^[^\n]*\n", "")
  local p = put(head .. "\n1,bad,notanumber,2\n" .. tail)
  local _, want = pcall(tally.read_csv, p, { types = types })
  want = tostring(want):match("read_csv: .*")
  assert(want and want:find("notanumber", 1, true), tostring(want))
  for _, knobs in ipairs(knob_sets) do
    for _, threads in ipairs({ 1, 3 }) do
      tally.threads(threads)
      check_error(want, testing.with, knobs, function()
        return tally.scan(p, { types = types, sample_bytes = 64 }):group_by("k")
                    :agg("s = sum(x)"):collect()
      end)
    end
  end
  os.remove(p)
end

-- a record with too few or too many fields, anywhere (past the sample, across
-- span and piece bounds), or a field longer than max_field_size: the count gives
-- read_csv's error, with its file, line and record, not a count
local function gen_bad(n, seed, at, how)
  local text = gen(n, seed)
  local recs, k = {}, 0
  -- cut at the line ends outside quotes (plain fields only: their quotes pair)
  local pos, q, start = 1, false, 1
  while pos <= #text do
    local c = text:sub(pos, pos)
    if c == '"' then q = not q
    elseif c == "\n" and not q then recs[#recs + 1] = text:sub(start, pos); start = pos + 1 end
    pos = pos + 1
  end
  if start <= #text then recs[#recs + 1] = text:sub(start) end
  for i = 2, #recs do   -- the at-th record that is not blank
    if not recs[i]:match("^\r?\n$") then
      k = k + 1
      if k == at then
        local body, eol = recs[i]:match("^(.-)(\r?\n?)$")
        if how == "few" then body = body:gsub(",[^,]*$", "")
        elseif how == "many" then body = body .. ",9"
        else body = body:gsub("^%d+", string.rep("7", 40)) end
        recs[i] = body .. eol
        break
      end
    end
  end
  return table.concat(recs)
end

for seed = 41, 52 do
  local n = math.random(30, 160)
  local how = ({ "few", "many", "long" })[seed % 3 + 1]
  local p = put(gen_bad(n, seed, math.random(1, n), how))
  local ropts = { types = types, max_field_size = how == "long" and 30 or nil }
  local opts = { types = types, max_field_size = ropts.max_field_size, sample_bytes = 64 }
  local ok, want = pcall(tally.read_csv, p, ropts)
  assert(not ok, "read_csv took a bad record: " .. how)
  want = tostring(want):match("read_csv: .*")
  assert(want:find(how == "long" and "max_field_size" or "too " .. how, 1, true), want)
  for _, threads in ipairs({ 1, 3 }) do
    for _, knobs in ipairs(knob_sets) do
      tally.threads(threads)
      check_error(want, count_of, p, knobs, opts)
    end
  end
  os.remove(p)
end

-- a record as long as max_field_size is counted; the short and long records of
-- a file read under on_error = "skip" are left out of read_csv's rows, and the
-- count of the good file agrees
do
  local p = put("a,b\n1234,5\n\n\r\n6,78\n")
  for _, knobs in ipairs(knob_sets) do
    assert(count_of(p, knobs, { max_field_size = 4 }) == 2)
    check_error("max_field_size", count_of, p, knobs, { max_field_size = 3 })
  end
  os.remove(p)
  p = put("a,b\n1,2\n3\n4,5,6\n7,8")
  local t = tally.read_csv(p, { on_error = "skip" })
  assert(#t == 2, "skip: " .. #t)
  local _, want = pcall(tally.read_csv, p)
  want = tostring(want):match("read_csv: .*")
  assert(want:find(":3:", 1, true) and want:find("too few", 1, true), want)
  for _, knobs in ipairs(knob_sets) do check_error(want, count_of, p, knobs, {}) end
  os.remove(p)
  -- the last record, with no line end after it, or a line of a space (past the sample)
  local good = ("1,2\n"):rep(100)
  for _, text in ipairs({ "3", "3,4,5", "\r\n3,4,5", "3\r\n", " \n", "\n\n 4\n5,6" }) do
    p = put("a,b\n" .. good .. text)
    _, want = pcall(tally.read_csv, p)
    want = tostring(want):match("read_csv: .*")
    assert(want:find("fields", 1, true), want)
    for _, knobs in ipairs(knob_sets) do
      check_error(want, count_of, p, knobs, { sample_bytes = 64 })
    end
    os.remove(p)
  end
end

-- explain says which way a top and a count run
do
  local p = put(gen(30, 6))
  local e = tally.scan(p, { types = types }):top(3, "-x"):explain()
  assert(e:find("late", 1, true), e)
  e = tally.scan(p, { types = types }):agg("n = count()"):explain()
  assert(e:find("columns read: 0", 1, true) and e:find("counted", 1, true), e)
  os.remove(p)
end

os.remove(dir)

print("test_scan_late: ok")
