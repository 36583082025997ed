#!/bin/sh
# exports.sh LIBRARY HEADER... -- the dynamic symbols LIBRARY defines must be
# exactly the functions the headers declare with TL_API: nothing internal
# leaks out, and nothing the headers promise is missing.
set -eu
lib=$1
shift
want=$(mktemp)
have=$(mktemp)
trap 'rm -f "$want" "$have"' EXIT
# "TL_API TL_NODISCARD tl_status tl_table_filter(" -> tl_table_filter
sed -n 's/^TL_API .*[^a-z0-9_]\([a-z][a-z0-9_]*\)(.*/\1/p' "$@" | sort -u >"$want"
# defined functions and data, less the linker's own (_init, _edata, ...)
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ && $3 !~ /^_/ { print $3 }' | sort -u >"$have"
[ -s "$want" ] || { echo "exports: no TL_API declarations in $*"; exit 1; }
status=0
extra=$(comm -13 "$want" "$have")
missing=$(comm -23 "$want" "$have")
if [ -n "$extra" ]; then
  echo "exports: $lib exports symbols no public header declares:"
  echo "$extra" | sed 's/^/  /'
  status=1
fi
if [ -n "$missing" ]; then
  echo "exports: $lib lacks symbols its headers declare:"
  echo "$missing" | sed 's/^/  /'
  status=1
fi
[ $status -ne 0 ] || echo "exports: $lib: $(wc -l <"$have") symbols, as declared"
exit $status
