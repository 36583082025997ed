-- Charts as files and HTML reports: what a reader of the picture sees,
-- checked from the layout the writer computed (every text of an SVG carries
-- the box the layout gave it): no two tick labels overlap, the legend only
-- with `by`, every mark inside its panel's plot area; PNG files of the
-- asked size; reports with every table and chart.
-- Run from the repository root: tally tests/lua/test_plot.lua

local tally = require "tally"

local function check_error(msg, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error: " .. msg)
  assert(tostring(err):find(msg, 1, true),
         string.format("expected an error containing %q, got %q", msg, tostring(err)))
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local tmp = os.tmpname()
local svg, png, html = tmp .. ".svg", tmp .. ".png", tmp .. ".html"

-- The elements of an SVG: tag, class, attributes.
local function elements(s)
  local out = {}
  for tag, attrs in s:gmatch("<(%a+)(%s[^>]*)/?>") do
    local e = { tag = tag }
    for k, v in attrs:gmatch('([%w%-]+)="([^"]*)"') do e[k] = v end
    out[#out + 1] = e
  end
  return out
end

local function nums(s)
  local t = {}
  for v in s:gmatch("%-?[%d%.]+") do t[#t + 1] = tonumber(v) end
  return t
end

local function overlap(a, b)
  return a[1] < b[1] + b[3] and b[1] < a[1] + a[3] and a[2] < b[2] + b[4] and b[2] < a[2] + a[4]
end

-- Checks what a reader sees and returns the elements by class.
local function check_layout(s, what)
  local els = elements(s)
  local by = {}
  for _, e in ipairs(els) do
    if e.class then
      by[e.class] = by[e.class] or {}
      table.insert(by[e.class], e)
    end
  end
  -- no two labels of the axes overlap, nor a tick label and an axis name
  local labels = {}
  for _, cls in ipairs{ "tick-label", "axis-label", "title", "subtitle", "legend-label",
                        "facet-label" } do
    for _, e in ipairs(by[cls] or {}) do labels[#labels + 1] = { nums(e["data-box"]), cls } end
  end
  for i = 1, #labels do
    for j = i + 1, #labels do
      assert(not overlap(labels[i][1], labels[j][1]),
             string.format("%s: a %s overlaps a %s (%s / %s)", what, labels[i][2], labels[j][2], table.concat(labels[i][1], " "), table.concat(labels[j][1], " ")))
    end
  end
  -- every mark inside its panel's plot area
  local areas = {}
  for k, e in ipairs(by["plot-area"] or {}) do
    areas[k - 1] = { tonumber(e.x), tonumber(e.y), tonumber(e.width), tonumber(e.height) }
  end
  local function inside(x, y, panel)
    local a = areas[panel or 0]
    return x >= a[1] - 0.6 and x <= a[1] + a[3] + 0.6 and y >= a[2] - 0.6 and y <= a[2] + a[4] + 0.6
  end
  for _, cls in ipairs{ "mark", "line", "area" } do
    for _, e in ipairs(by[cls] or {}) do
      local panel = tonumber(e["data-panel"] or "0")
      if e.tag == "circle" then
        assert(inside(tonumber(e.cx), tonumber(e.cy), panel), what .. ": a dot outside")
      elseif e.tag == "rect" then
        local x, y, w, h = tonumber(e.x), tonumber(e.y), tonumber(e.width), tonumber(e.height)
        assert(inside(x, y, panel) and inside(x + w, y + h, panel), what .. ": a bar outside")
      elseif e.points then
        local p = nums(e.points)
        for k = 1, #p, 2 do assert(inside(p[k], p[k + 1], panel), what .. ": a line outside") end
      end
    end
  end
  return by
end

local function count(by, cls) return by[cls] and #by[cls] or 0 end

local function chart(t, opts, what)
  opts.file = svg
  t:plot(opts)
  return check_layout(slurp(svg), what), slurp(svg)
end

local weather = tally.read_csv("tests/data/charts/seattle-weather.csv")
local training = tally.read_csv("data/jica_training.csv")
local dispatches = tally.read_csv("data/jdr_dispatches.csv")

-- a dense line: no dots, no legend for its one series, calendar ticks
do
  local by, s = chart(weather, { x = "date", y = "temp_max", title = "Seattle" }, "dense line")
  assert(count(by, "line") == 1, "one line")
  assert(count(by, "mark") == 0, "a dense line has no dots")
  assert(count(by, "legend-label") == 0, "no legend without by")
  for _, year in ipairs{ "2013", "2014", "2015" } do
    assert(s:find(">" .. year .. "</text>", 1, true), "a tick on " .. year)
  end
end

-- vega-datasets' stocks: dates in their own format, five series, year ticks
do
  local stocks = tally.read_csv("tests/data/charts/stocks.csv",
                                { types = { date = "date:%b %d %Y" } })
  local by, s = chart(stocks, { x = "date", y = "price", by = "symbol", title = "Stocks" },
                      "stocks")
  assert(count(by, "line") == 5, "a line per symbol")
  assert(count(by, "legend-swatch") == 5, "a legend of the five")
  assert(count(by, "mark") == 0, "monthly lines over ten years: no dots")
  for _, year in ipairs{ "2002", "2006", "2010" } do
    assert(s:find(">" .. year .. "</text>", 1, true), "a tick on " .. year)
  end
end

-- a few points: a dot on each; with by: a legend, names whole
do
  local by = chart(training, { x = "year", y = "participants", by = "program" }, "few points")
  local n = #training:filter("not is_null(participants)")
  assert(count(by, "mark") == n, "a dot per point")
  assert(count(by, "legend-swatch") == 8, "a swatch per series")
  local whole = 0
  for _, e in ipairs(elements(slurp(svg))) do
    if e.class == "legend-label" then whole = whole + 1 end
  end
  local s = slurp(svg)
  assert(s:find(">Countermeasures against Cybercrime</text>", 1, true), "a long name whole")
end

-- bars with the seed's long program names lie down, every label readable
do
  local per = training:group_by("program"):agg("p = sum(participants)")
  local by = chart(per, { x = "program", y = "p", kind = "bar" }, "long bar labels")
  assert(count(by, "mark") == #per, "a bar per program")
  assert(count(by, "tick-label") >= #per, "every program named")
  local b = by.mark[1]
  assert(tonumber(b.width) > tonumber(b.height) / 4, "horizontal bars")
  -- standing when asked: labels turn and thin out, never overlap
  chart(per, { x = "program", y = "p", kind = "bar", orient = "vertical" }, "standing bars")
end

-- grouped and stacked bars, areas
do
  local by = chart(training, { x = "year", y = "participants", by = "program", kind = "bar" },
                   "grouped")
  assert(count(by, "legend-swatch") == 8)
  local grouped_width = tonumber(by.mark[1].width)
  by = chart(training, { x = "year", y = "participants", by = "program", kind = "bar",
                         stack = true }, "stacked")
  assert(tonumber(by.mark[1].width) > 4 * grouped_width, "stacked bars are whole bands")
  chart(training, { x = "year", y = "participants", by = "program", kind = "area", stack = true },
        "stacked area")
  by = chart(weather, { x = "date", y = "precipitation", kind = "area" }, "area")
  assert(count(by, "area") == 1)
end

-- many categories: labels thinned, none overlapping
do
  local names, values = {}, {}
  for i = 1, 300 do names[i] = "category number " .. i; values[i] = i % 17 end
  local t = tally.from_columns{ { "name", names }, { "v", values } }
  chart(t, { x = "name", y = "v", kind = "bar", orient = "vertical" }, "300 categories")
  chart(t, { x = "name", y = "v", kind = "bar", orient = "horizontal", height = 500 },
        "300 categories lying")
  chart(t, { x = "name", y = "v", kind = "line", width = 200, height = 150 }, "small")
end

-- scatter, facets, histograms, boxes
do
  local by = chart(weather, { x = "temp_min", y = "temp_max", kind = "scatter", facet = "weather" },
                   "facets")
  assert(count(by, "plot-area") == 5, "a panel per weather")
  assert(count(by, "facet-label") == 5)
  assert(count(by, "mark") == #weather, "a dot per day")
  by = chart(weather, { x = "temp_max", kind = "hist", bins = 12 }, "hist")
  assert(count(by, "mark") == 12, "a bar per bin")
  by = chart(weather, { x = "weather", y = "temp_max", kind = "box" }, "box")
  by = chart(dispatches, { x = "date", y = "persons", by = "disaster", kind = "scatter",
                           title = "Dispatches", subtitle = "persons, by date",
                           xlabel = "when", ylabel = "how many" }, "labels")
  local s = slurp(svg)
  for _, text in ipairs{ "Dispatches", "persons, by date", "when", "how many" } do
    assert(s:find(">" .. text .. "</text>", 1, true), text)
  end
  -- a histogram straight from a column, into a file
  weather.wind:hist{ file = svg, bins = 8, title = "wind" }
  by = check_layout(slurp(svg), "column hist")
  assert(count(by, "mark") == 8)
  assert(weather.wind:hist{ print = false }:find("\n"), "the text histogram stays")
end

-- PNG: the same layout through cairo, a real PNG of the asked size
do
  training:plot{ x = "year", y = "participants", by = "program", kind = "bar", file = png,
                 width = 500, height = 300 }
  local s = slurp(png)
  assert(s:sub(1, 8) == "\137PNG\r\n\26\n", "a PNG signature")
  local w, h = string.unpack(">I4I4", s, 17)
  assert(w == 500 and h == 300, string.format("%d x %d", w, h))
  assert(#s > 2000, "something drawn")
  os.remove(png)
end

-- without a file: the chart in characters, or an image for kitty's protocol
do
  local text = weather:plot{ x = "date", y = "temp_max", title = "Seattle", print = false }
  local lines = {}
  for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line end
  assert(lines[1] == "Seattle", lines[1])
  assert(#lines == 1 + 16 + 2, "a title, 16 rows of grid, the axis and its range")
  assert(lines[2]:find("^%s+40 \u{2502}"), lines[2])
  assert(lines[17]:find("^%s+%-10 \u{2502}"), lines[17])
  assert(lines[#lines]:find("^%s+2012%s+2015$"), lines[#lines])
  local per = weather:group_by("weather"):agg("n = count()")
  local bars = per:plot{ x = "weather", y = "n", kind = "bar", print = false }
  assert(bars == per:bar("weather", "n", { print = false, width = 80 }) or
         bars:find("rain%s+\u{2588}+.* 641"), bars)
  local with_by = training:plot{ x = "year", y = "participants", by = "program", kind = "scatter",
                                 print = false }
  assert(with_by:find("Criminal Identification", 1, true), "a key of the series")
  local exe = assert(arg[-1], "run this script with the tally executable")
  local p = assert(io.popen("TALLY_IMAGES=kitty " .. exe ..
    [[ -e 'tally.read_csv("data/jica_training.csv"):plot{ x = "year", y = "participants" }']]))
  local s = p:read("a")
  p:close()
  assert(s:sub(1, 14) == "\27_Gf=100,a=T,m", "kitty's graphics protocol")
  local b64 = s:match("m=%d;([%w+/=]+)\27\\")
  assert(b64 and b64:sub(1, 8) == "iVBORw0K", "a PNG inside")
end

-- every option checked; errors name what is wrong
do
  check_error("plot: unknown option 'titel' (did you mean 'title'?)",
              training.plot, training, { x = "year", y = "participants", titel = "x", file = svg })
  check_error("plot: y: unknown column 'participant' (did you mean 'participants'?)",
              training.plot, training, { x = "year", y = "participant", file = svg })
  check_error("plot: kind must be 'line', 'scatter', 'bar', 'area', 'hist' or 'box', not 'pie'",
              training.plot, training, { x = "year", y = "participants", kind = "pie", file = svg })
  check_error("plot: column 'program' is string, not a number",
              training.plot, training, { x = "year", y = "program", file = svg })
  check_error("plot: 'a.jpg': the file must end in .svg or .png",
              training.plot, training, { x = "year", y = "participants", file = "a.jpg" })
  check_error("plot: a histogram counts x; it takes no y",
              training.plot, training, { x = "year", y = "participants", kind = "hist", file = svg })
  check_error("plot: option 'bins' is for kind = 'hist'",
              training.plot, training, { x = "year", y = "participants", bins = 3, file = svg })
  check_error("plot: orient must be 'vertical' or 'horizontal', not 'up'",
              training.plot, training, { x = "year", y = "participants", kind = "bar",
                                         orient = "up", file = svg })
  check_error("plot: option 'stack' must be a boolean",
              training.plot, training, { x = "year", y = "participants", stack = 1, file = svg })
  check_error("plot: option 'width' must be an integer in [120, 20000]",
              training.plot, training, { x = "year", y = "participants", width = 50, file = svg })
  check_error("plot: cannot open '/nonexistent/dir/a.svg'",
              training.plot, training, { x = "year", y = "participants",
                                         file = "/nonexistent/dir/a.svg" })
  check_error("hist: unknown option 'bin' (did you mean 'bins'?)",
              function() weather.wind:hist{ file = svg, bin = 3 } end)
end

-- reports: one self-contained page with every heading, text, table and chart
do
  local r = tally.report("Weather <&> report")
  r:heading("Seattle")
  r:text("Four years of days.\n\nA second paragraph with <b>markup</b> kept as text.")
  local per = weather:group_by("weather"):agg("n = count()", "mean_max = mean(temp_max)")
  r:table(per, { caption = "Days per weather", digits = 3 })
  r:chart(per, { x = "weather", y = "n", kind = "bar", title = "Days" })
  r:table(weather, { max_rows = 10 })
  r:table(tally.from_columns{ { "a", { 1, tally.null, 3 } } })
  assert(r:write(html) == html)
  local s = slurp(html)
  local function n(pat) return select(2, s:gsub(pat, "")) end
  assert(s:find("^<!DOCTYPE html>"), "a document")
  assert(n("<table>") == 3, "three tables")
  assert(n("<svg ") == 1, "one chart")
  assert(n("<p>") == 2, "two paragraphs")
  assert(s:find("<title>Weather &lt;&amp;&gt; report</title>", 1, true), "the title escaped")
  assert(s:find("&lt;b&gt;markup&lt;/b&gt;", 1, true), "text escaped")
  assert(not s:find("<script", 1, true) and not s:find("<link", 1, true) and
         not s:find("src=", 1, true) and not s:find("href=", 1, true) and
         not s:find("@import", 1, true), "no scripts, nothing fetched")
  assert(s:find("1451 rows not shown", 1, true), "a long table cut with a note")
  assert(s:find('<td class="null">null</td>', 1, true), "nulls marked")
  assert(s:find(">Days per weather</caption>", 1, true), "a caption")
  local mean = per:filter("weather == 'sun'").mean_max[1]
  assert(s:find(">" .. string.format("%.3g", mean) .. "<", 1, true), "floats at 3 digits")
  check_error("chart: option 'file' is not for a report's chart",
              r.chart, r, per, { x = "weather", y = "n", file = "x.svg" })
  check_error("heading: level must be an integer in [1, 4]", r.heading, r, "x", 7)
  check_error("report: cannot open", r.write, r, "/nonexistent/dir/r.html")
  -- a table alone as a page
  weather:write_html(html, { title = "All days" })
  s = slurp(html)
  assert(select(2, s:gsub("<tr>", "")) == #weather + 1, "every row in the file, and the header")
  check_error("write_html: unknown option 'max_row' (did you mean 'max_rows'?)",
              weather.write_html, weather, html, { max_row = 3 })
  os.remove(html)
end

os.remove(svg)
os.remove(tmp)
print("plot: ok")
