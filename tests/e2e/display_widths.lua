-- Table printing at several terminal widths (golden output): text columns are
-- narrowed with "...", then middle columns are hidden behind a "..." column (numbers and
-- dates never cut) and counted in the footer; numbers stay
-- right-aligned; the footer wraps to the width.
local t = tally.read_csv("data/jica_training.csv")
local d = tally.read_csv("data/jdr_dispatches.csv")
for _, w in ipairs{ 100, 72, 60, 40, 24, 12 } do
  print(string.format("== width %d", w))
  print(t:format{ n = 6, width = w, color = false })
  print(d:format{ n = 4, width = w, color = false })
end
print("== all")
t:head(3):show{ all = true, color = false }
print("== types")
d:head(2):show{ types = true, width = 60, color = false }
print("== one row, one column")
print(t:select("year"):head(1):format{ color = false })
