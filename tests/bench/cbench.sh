#!/bin/sh
# Builds one of the C micro-benchmarks of this folder against the library
# and runs it: tests/bench/cbench.sh NAME [ARGS...] compiles NAME.c with
# libtally.a and the libraries it links, then runs it with ARGS.
# BUILD: the build directory that holds libtally.a (default: build); CC.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD:-$repo/build}
cc=${CC:-cc}
name=$1
shift
out=$build/tests/bench/$name
mkdir -p "$(dirname "$out")"
# -O2, as the library's Release and RelWithDebInfo builds
"$cc" -O2 -g -std=gnu11 -I "$repo/core/include" -I "$repo/core" "$here/$name.c" "$build/libtally.a" \
  $(pkg-config --libs libxxhash jansson libpcre2-8 libutf8proc libzstd zlib liblz4 libbrotlidec \
    libbrotlienc) -lsnappy -lm -lpthread -o "$out"
exec "$out" "$@"
