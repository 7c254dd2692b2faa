#!/usr/bin/env bash
# The documentation matches the code: the configuration shown in README.md and
# every file in deploy/ load, with all their plugins and options, through
# `kpistream run --check-config`.
# usage: configs_check.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
sed -n '/^```yaml/,/^```/p' "$SRC/README.md" | sed '/^```/d' > "$WORK/readme.yaml"
[ -s "$WORK/readme.yaml" ] || { echo "FAIL: no yaml block in README.md"; exit 1; }
for f in "$WORK/readme.yaml" "$SRC"/deploy/*.yaml; do
  "$KPISTREAM" run -c "$f" --plugin-dir "$PLUGIN_DIR" --check-config --log-level warn ||
    { echo "FAIL: $f does not load"; exit 1; }
done
