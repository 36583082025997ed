#!/bin/sh
# layers.sh OBJDIR -- the core's folders call one another in one direction
# only: base at the bottom; expr over base; agg over expr; ops over agg; io
# over expr; show over ops; exec over ops, agg, expr, io and base. OBJDIR holds the core's object files in folders
# named after the source folders (core/base/*.o, core/expr/*.o, ...). Every
# call from an object file into another folder's must be allowed below.
set -eu
dir=$1
allowed="expr:base agg:expr agg:base ops:agg ops:expr ops:base io:expr io:base
show:ops show:agg show:expr show:base
exec:ops exec:agg exec:expr exec:io exec:base"
defs=$(mktemp)
uses=$(mktemp)
trap 'rm -f "$defs" "$uses"' EXIT
n=0
for o in "$dir"/*/*.o; do
  [ -e "$o" ] || continue
  n=$((n + 1))
  folder=$(basename "$(dirname "$o")")
  file=$(basename "$o" .o)
  nm "$o" | awk -v f="$folder" -v o="$file" '
    NF == 3 && $2 ~ /^[TDBR]$/ { print $3, f, o >> "'"$defs"'" }
    NF == 2 && $1 == "U" { print $2, f, o >> "'"$uses"'" }'
done
[ "$n" -gt 0 ] || { echo "layers: no object files under $dir"; exit 1; }
bad=$(awk -v allowed="$allowed" '
  BEGIN { n = split(allowed, a, /[ \n]+/); for (i = 1; i <= n; i++) ok[a[i]] = 1 }
  FNR == NR { where[$1] = $2; file[$1] = $3; next }
  ($1 in where) && where[$1] != $2 && !(($2 ":" where[$1]) in ok) {
    printf "  %s/%s calls %s of %s/%s\n", $2, $3, $1, where[$1], file[$1]
  }' "$defs" "$uses")
if [ -n "$bad" ]; then
  echo "layers: calls against the direction of the core's folders:"
  echo "$bad"
  exit 1
fi
echo "layers: $n object files, every call between folders goes down"
