-- extract.lua -- the seed report's two tables, out of its text, as tidy CSV.
--
--   tally scripts/extract.lua REPORT.txt [OUTDIR]      (OUTDIR defaults to data/)
--
-- Writes OUTDIR/jica_training.csv (program, year, participants, countries:
-- one row per program and year) and OUTDIR/jdr_dispatches.csv (date,
-- country, disaster, persons: one row per dispatch).

local report = arg and arg[1]
if not report then
  io.stderr:write("usage: tally scripts/extract.lua REPORT.txt [OUTDIR]\n")
  os.exit(2)
end
local outdir = arg[2] or "data"

local tables = tally.read_document(report)

-- The table whose title contains `words` (plain text).
local function find(words)
  for _, t in ipairs(tables) do
    if t:title() and t:title():find(words, 1, true) then return t end
  end
  error(string.format("extract: no table titled '...%s...' in %s", words, report))
end

-- The training programs: one column per year and measure ("2016 No. of
-- participants"), gathered into (year, measure) pairs, then spread again
-- by measure so that each program-year is one row.
local wide = find("JICA")
local training = wide
  :pivot_longer{ id_cols = { "Program" }, names_to = { "year", "measure" },
                 values_to = "value", names_pattern = "^(%d+) (.*)$" }
  :pivot_wider{ names_from = "measure", values_from = "value" }
  :rename{ Program = "program", ["No. of participants"] = "participants",
           ["No. of countries"] = "countries" }
training:write_csv(outdir .. "/jica_training.csv")

-- The dispatches: dates and person counts are already read as such
-- ("June 1990" is 1990-06-01, "6 persons" is 6, with the unit kept).
local dispatches = find("Disaster Relief")
  :rename{ ["Month & Year"] = "date", ["Country/Region"] = "country",
           Disaster = "disaster", Dispatched = "persons" }
dispatches:write_csv(outdir .. "/jdr_dispatches.csv")

print(string.format("%s/jica_training.csv: %d rows; %s/jdr_dispatches.csv: %d rows",
  outdir, #training, outdir, #dispatches))
