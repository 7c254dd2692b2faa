#!/usr/bin/env bash
# No include runs upward. Each folder may include its own headers and those
# of the layers below it (docs/architecture.md, "Files"):
#   SDK (core/include) < core/base < core/engine < core/runtime < tools/<x> < app
#   core/engine < sdk/testkit (the plugin test kit: a host without Kafka)
# and a plugin only the SDK. Every quoted include of every C file is resolved
# against the folders its layer may see; one that resolves only in a folder
# it may not see is reported as FILE:LINE and fails the check.
# usage: layers_check.sh SOURCE_DIR
set -euo pipefail
SRC=$1
cd "$SRC"
fail=0 checked=0
# allowed FOLDER... : the folders a file of the first folder may include from
allowed() {
  case $1 in
    core/include/*) echo core/include ;;
    core/base) echo core/base core/include ;;
    core/engine) echo core/engine core/base core/include ;;
    core/runtime) echo core/runtime core/engine core/base core/include ;;
    tools/*) echo "$1" core/runtime core/engine core/base core/include ;;
    sdk/testkit | sdk/testkit/include/kpistream) echo sdk/testkit sdk/testkit/include core/engine core/base core/include ;;
    app) echo app tools/* core/runtime core/engine core/base core/include ;;
    plugins/*) echo "$1" core/include ;;
    *) return 1 ;;
  esac
}
all_dirs=$(find core/base core/engine core/runtime core/include sdk tools app plugins -type d)
while IFS= read -r f; do
  dir=$(dirname "$f")
  case $dir in core/include/*) layer=core/include/x ;; plugins/*/*) layer=$(cut -d/ -f1-2 <<<"$dir") ;; *) layer=$dir ;; esac
  ok=$(allowed "$layer") || continue
  while IFS=: read -r line inc; do
    checked=$((checked + 1))
    case $inc in kpistream/v1/*) continue ;; esac # generated from proto/: below everything
    found=
    for d in $ok; do
      if [ -f "$d/$inc" ]; then found=$d; break; fi
    done
    [ -n "$found" ] && continue
    for d in $all_dirs; do
      if [ -f "$d/$inc" ]; then
        echo "UPWARD: $f:$line includes \"$inc\" from $d, which $layer may not see"
        fail=1
        break
      fi
    done
  done < <(grep -n '^#include "' "$f" | sed 's/^\([0-9]*\):#include "\([^"]*\)".*/\1:\2/')
done < <(find core sdk tools app plugins -name '*.[ch]' | sort)
[ "$checked" -gt 100 ] || { echo "FAIL: only $checked includes seen: wrong SOURCE_DIR?"; exit 1; }
[ $fail = 0 ] || exit 1
echo "layers: $checked includes, none upward"
