#!/usr/bin/env bash
# Result digests of a build: every KPI family's plugin, and the operations
# plugin under several option sets, through the in-process benchmark's
# generator (bench_pipeline --digest: a hash of every result's topic, key and
# value, in order). Two builds that print the same lines publish the same
# bytes; a refactoring must not change a line (docs/benchmarks.md).
# usage: scripts/digests.sh BUILD_DIR [EVENTS]   (default 300000 events)
set -euo pipefail
build=${1:?usage: digests.sh BUILD_DIR [EVENTS]}
events=${2:-300000}
bench=$build/bench/bench_pipeline
[ -x "$bench" ] || { echo "digests.sh: no $bench (configure with -DKS_BUILD_BENCH=ON)" >&2; exit 2; }
digest() { # LABEL PLUGIN [--plugin-option K=V]...
  local label=$1 plugin=$2
  shift 2
  local d
  d=$("$bench" --skip-broker --runs 1 --events "$events" --digest --plugin "$build/plugins/kpi_$plugin.so" "$@" 2>&1 |
    sed -n 's/.*digest of every result[^:]*: \([0-9a-f]*\).*/\1/p' | head -1)
  [ -n "$d" ] || { echo "digests.sh: no digest from $label" >&2; exit 1; }
  printf '%-40s %s\n' "$label" "$d"
}
for f in operations experience workforce value forecast; do
  digest "$f" "$f"
done
digest "operations per_agent=queue" operations --plugin-option per_agent=queue
digest "operations per_agent=off" operations --plugin-option per_agent=off
digest "operations fcr.scope=same_channel,held" operations --plugin-option fcr.scope=same_channel \
  --plugin-option hold_average_over=held
digest "operations contact_ttl=2m" operations --plugin-option contact_ttl=2m
