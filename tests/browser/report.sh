#!/bin/sh
# The seed report's HTML page and a PNG chart, opened in headless chromium:
# the page as the browser builds it holds every table and chart the script
# wrote, each chart has its marks and axes, and a screenshot of the page is
# a picture of the asked size with something drawn on it.
set -eu
: "${TALLY:?}" "${CHROMIUM:?}" "${TALLY_SCRATCH:?}"
rm -rf "$TALLY_SCRATCH"
mkdir -p "$TALLY_SCRATCH"
html=$TALLY_SCRATCH/report.html
"$TALLY" scripts/report.lua data "$html" >/dev/null
browse() {
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$TALLY_SCRATCH/profile" "$@" 2>"$TALLY_SCRATCH/chromium.log"
}
browse --dump-dom "file://$html" >"$TALLY_SCRATCH/dom.html"
count() { grep -o "$1" "$TALLY_SCRATCH/dom.html" | wc -l; }
fail() { echo "report: $*"; exit 1; }
[ "$(count '<table>')" -eq 4 ] || fail "expected 4 tables, the browser has $(count '<table>')"
[ "$(count '<svg ')" -eq 5 ] || fail "expected 5 charts, the browser has $(count '<svg ')"
[ "$(count 'class="mark"')" -ge 40 ] || fail "the charts lack their marks"
[ "$(count 'class="axis-line"')" -ge 10 ] || fail "the charts lack their axes"
grep -q '<h1>Police international cooperation</h1>' "$TALLY_SCRATCH/dom.html" ||
  fail "no title"
browse --screenshot="$TALLY_SCRATCH/page.png" --window-size=1000,1400 "file://$html" >/dev/null
# the screenshot: a PNG of 1000 x 1400 pixels, not blank (a blank page
# compresses to a few kilobytes)
cat >"$TALLY_SCRATCH/check.lua" <<'LUA'
local f = assert(io.open(arg[1], "rb")); local s = f:read("a"); f:close()
assert(s:sub(1, 8) == "\137PNG\r\n\26\n", "not a PNG")
local w, h = string.unpack(">I4I4", s, 17)
assert(w == 1000 and h == 1400, ("a screenshot of %d x %d"):format(w, h))
assert(#s > 30000, "a blank screenshot: " .. #s .. " bytes")
LUA
"$TALLY" "$TALLY_SCRATCH/check.lua" "$TALLY_SCRATCH/page.png"
echo "report: ok"
