#!/bin/sh
# tests/embed/run.sh STEP -- the embedding tests, against an installed tree.
#   install   install the build into $TALLY_PREFIX and check what is there
#   require   `require "tally"` from stock lua5.4, with LUA_CPATH on the prefix
#   host      build tests/embed/host.c with pkg-config, run it on host.lua
#   sandbox   build tests/embed/sandbox.c with pkg-config, run it
#   cmake     build tests/embed as a CMake project with find_package(tally)
#   luarocks  `luarocks make` of the rockspec into a local tree, then require
# ctest sets TALLY_SOURCE_DIR, TALLY_BUILD_DIR, TALLY_PREFIX, TALLY_LIBDIR,
# TALLY_CC and TALLY_SANITIZE (ON or OFF).
set -eu

step=$1
prefix=$TALLY_PREFIX
libdir=$prefix/$TALLY_LIBDIR
work=$TALLY_BUILD_DIR/tests/embed/$step
cflags="-Wall -Wextra -Werror -g"
case $TALLY_SANITIZE in
  ON|on|1|TRUE|true|YES|yes)
    cflags="$cflags -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
    ;;
esac

fail() {
  echo "embed $step: $*" >&2
  exit 1
}

case $step in
install)
  rm -rf "$prefix"
  cmake --install "$TALLY_BUILD_DIR" --prefix "$prefix" >/dev/null
  for f in "$TALLY_LIBDIR/libtally.so" "$TALLY_LIBDIR/libtally.so.0" \
           "$TALLY_LIBDIR/libtally.a" "$TALLY_LIBDIR/libtally-lua.so.0" \
           include/tally/tally.h include/tally_lua.h include/tally_sandbox.h \
           "$TALLY_LIBDIR/pkgconfig/tally.pc" "$TALLY_LIBDIR/pkgconfig/tally-lua.pc" \
           "$TALLY_LIBDIR/cmake/tally/tallyConfig.cmake" \
           "$TALLY_LIBDIR/lua/5.4/tally.so" bin/tally; do
    [ -e "$prefix/$f" ] || fail "not installed: $f"
  done
  soname=$(objdump -p "$libdir/libtally.so" | awk '$1 == "SONAME" { print $2 }')
  [ "$soname" = libtally.so.0 ] || fail "soname is '$soname', not libtally.so.0"
  ;;

require)
  out=$(LUA_CPATH="$libdir/lua/5.4/?.so" LUA_PATH="" lua5.4 -e '
    local tally = require "tally"
    local t = tally.from_columns{ {"x", {1, 2, 3}}, {"s", {"a", nil, "c"}} }
    local u = tally.from_arrow(t:to_arrow())
    assert(#u == 3 and u:col("x"):sum() == 6 and u:col("s"):nulls() == 1)
    -- a Lua aggregate on the worker threads: its steps run in states of their own
    local n, calls, v = 200000, 0, {}
    for i = 1, n do v[i] = i end
    tally.threads(2)
    tally.aggregate{ name = "total", init = 0, merge = function(a, b) return a + b end,
                     step = function(s, x) calls = calls + 1; return s + x end }
    local r = tally.from_columns{ {"x", v} }:agg("s = total(x)")
    assert(calls == 0 and r.s[1] == n * (n + 1) / 2, "workers: " .. calls)
    print(tally.version, package.searchpath("tally", package.cpath))')
  [ "$out" = "0.2.0	$libdir/lua/5.4/tally.so" ] || fail "got '$out'"
  ;;

host)
  rm -rf "$work" && mkdir -p "$work"
  export PKG_CONFIG_PATH="$libdir/pkgconfig"
  # shellcheck disable=SC2046
  "$TALLY_CC" $cflags -o "$work/host" "$TALLY_SOURCE_DIR/tests/embed/host.c" \
    $(pkg-config --cflags --libs tally-lua) -Wl,-rpath,"$libdir"
  ASAN_OPTIONS=detect_leaks=1 "$work/host" "$TALLY_SOURCE_DIR/tests/embed/host.lua" \
    > "$work/out.txt"
  diff -u "$TALLY_SOURCE_DIR/tests/embed/host.expected" "$work/out.txt" ||
    fail "output differs"
  ;;

sandbox)
  rm -rf "$work" && mkdir -p "$work"
  export PKG_CONFIG_PATH="$libdir/pkgconfig"
  # shellcheck disable=SC2046
  "$TALLY_CC" $cflags -pthread -o "$work/sandbox" "$TALLY_SOURCE_DIR/tests/embed/sandbox.c" \
    $(pkg-config --cflags --libs tally-lua) -Wl,-rpath,"$libdir"
  ASAN_OPTIONS=detect_leaks=1 "$work/sandbox" > "$work/out.txt" || fail "failed"
  [ "$(cat "$work/out.txt")" = "sandbox: ok" ] || fail "got '$(cat "$work/out.txt")'"
  ;;

cmake)
  rm -rf "$work"
  cmake -S "$TALLY_SOURCE_DIR/tests/embed" -B "$work" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_FLAGS="$cflags" -DCMAKE_BUILD_TYPE=Debug >/dev/null
  cmake --build "$work" >/dev/null
  ASAN_OPTIONS=detect_leaks=1 "$work/consumer" > "$work/out.txt"
  [ "$(cat "$work/out.txt")" = "consumer: 6 rows, sum 21, exported 2 columns, released 1" ] ||
    fail "got '$(cat "$work/out.txt")'"
  ;;

luarocks)
  command -v luarocks >/dev/null || fail "luarocks is not installed"
  rm -rf "$work" && mkdir -p "$work/src"
  # a copy of what the rock builds from: luarocks builds inside the source tree
  (cd "$TALLY_SOURCE_DIR" && cp -R CMakeLists.txt LICENSE core bindings \
    tally-0.2.0-1.rockspec "$work/src/")
  (cd "$work/src" && luarocks --lua-version 5.4 --tree "$work/tree" make \
    tally-0.2.0-1.rockspec) > "$work/luarocks.log" 2>&1 ||
    { cat "$work/luarocks.log" >&2; fail "luarocks make failed"; }
  out=$(LUA_CPATH="$work/tree/lib/lua/5.4/?.so" LUA_PATH="" lua5.4 -e '
    local tally = require "tally"
    print(tally.version, #tally.from_columns{ {"x", {1, 2}} })')
  [ "$out" = "0.2.0	2" ] || fail "got '$out'"
  ;;

*)
  fail "unknown step"
  ;;
esac
echo "embed $step: ok"
