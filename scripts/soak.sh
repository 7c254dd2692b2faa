#!/usr/bin/env bash
# Randomised crash and rebalance loops, for the numbers in docs/reliability.md:
#   scripts/soak.sh [BUILD_DIR] [ROUNDS]
# Each round runs tests/e2e/e2e_kill9.sh with a new kill seed (6 random
# kill -9 points each, results compared with an uninterrupted run) and
# tests/e2e/e2e_rebalance.sh (joins, leaves, stops, a live stream). Prints
# one line per run and a total; exit status 1 when any run failed (its log
# is kept in BUILD_DIR/soak/).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
rounds=${2:-5}
bin=$build/app/kpistream
plugins=$build/plugins
out=$build/soak
mkdir -p "$out"
[ -x "$bin" ] || { echo "no $bin: build first (scripts/build.sh $build)" >&2; exit 2; }
pass=0 fail=0 kills=0
for r in $(seq 1 "$rounds"); do
  seed=$(( $(date +%s) + r ))
  if KS_KILL_SEED=$seed bash tests/e2e/e2e_kill9.sh "$bin" "$plugins" . > "$out/kill9.$seed.log" 2>&1; then
    pass=$((pass + 1)); kills=$((kills + ${KS_KILLS:-6}))
    echo "round $r: e2e_kill9 seed $seed ok: $(tail -1 "$out/kill9.$seed.log")"
    rm -f "$out/kill9.$seed.log"
  else
    fail=$((fail + 1)); echo "round $r: e2e_kill9 seed $seed FAILED (log $out/kill9.$seed.log)"
  fi
  if bash tests/e2e/e2e_rebalance.sh "$bin" "$plugins" . > "$out/rebalance.$r.log" 2>&1; then
    pass=$((pass + 1))
    echo "round $r: e2e_rebalance ok: $(tail -1 "$out/rebalance.$r.log")"
    rm -f "$out/rebalance.$r.log"
  else
    fail=$((fail + 1)); echo "round $r: e2e_rebalance FAILED (log $out/rebalance.$r.log)"
  fi
done
echo "$pass passed, $fail failed ($kills random kill -9 points in passing kill runs)"
[ "$fail" -eq 0 ]
