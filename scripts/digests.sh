#!/usr/bin/env bash
# Result digests of a build: every KPI family's plugin, and the operations
# plugin under several option sets, through the in-process benchmark's
# generator (bench_pipeline --digest: a hash of every result's topic, key and
# value, in order). Two builds that print the same lines publish the same
# bytes; a refactoring must not change a line (docs/benchmarks.md).
# With THREADS (2..64), each family's tasks also run on 1 and on THREADS
# threads (bench_pipeline --threads, processing.threads): the bench exits 1
# when the two publish other results task by task, and a line per family
# gives that digest per task (docs/benchmarks.md).
# usage: scripts/digests.sh BUILD_DIR [EVENTS [THREADS]]   (default 300000 events)
set -euo pipefail
build=${1:?usage: digests.sh BUILD_DIR [EVENTS [THREADS]]}
events=${2:-300000}
threads=${3:-}
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
[ -z "$threads" ] && exit 0
for f in operations experience workforce value forecast; do
  out=$("$bench" --skip-broker --only-engine --runs 1 --events "$events" --threads "$threads" \
    --plugin "$build/plugins/kpi_$f.so" 2>&1) || { printf '%s\n' "$out" | tail -3 >&2
    echo "digests.sh: $f: $threads threads published other results than 1" >&2; exit 1; }
  d=$(printf '%s\n' "$out" | sed -n 's/.*digest per task \([0-9a-f]*\).*/\1/p' | head -1)
  [ -n "$d" ] || { echo "digests.sh: no per-task digest from $f" >&2; exit 1; }
  printf '%-40s %s\n' "$f, 1 = $threads threads (per task)" "$d"
done
