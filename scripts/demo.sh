#!/usr/bin/env bash
# The README's demo command: install what is missing, build, then run the
# whole pipeline on this machine:
#   kpistream broker    embedded Kafka-protocol broker on 127.0.0.1
#   kpistream simulate  a contact center's day, 300x faster than real time
#   kpistream run       the KPI service with every plugin (deploy/demo.yaml)
#   kpistream watch     the results, read back from every family's output topic
#                       (and kpi.alerts): per closed interval and tenant one table
#                       per KPI family, day rollups as they come, alert lines
# Ctrl-C stops everything. Logs: build/demo/*.log
set -euo pipefail
cd "$(dirname "$0")/.."
# KS_DEMO_BIN: an already built kpistream (skips deps and build; tests use it);
# KS_DEMO_DIR: where the logs go (default build/demo).
KS=${KS_DEMO_BIN:-./build/app/kpistream}
PLUGINS=${KS_DEMO_PLUGINS:-build/plugins}
if [ -z "${KS_DEMO_BIN:-}" ]; then
  bash scripts/deps.sh
  bash scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
fi
RUN=${KS_DEMO_DIR:-build/demo}
rm -rf "$RUN" && mkdir -p "$RUN"
pids=()
# Each process runs in a session of its own (setsid), so a Ctrl-C at the
# terminal reaches this script only, which stops them in order: the viewer
# and the simulator first, then kpistream (it delivers, checkpoints and
# commits while the broker is still up), the broker last. A second Ctrl-C
# kills whatever is left at once.
force() {
  trap - INT TERM
  echo "second signal: killing what is left"
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  exit 130
}
stop() {
  trap - EXIT
  trap force INT TERM
  echo
  echo "stopping demo..."
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[$i]}" 2>/dev/null || true
    wait "${pids[$i]}" 2>/dev/null || true
  done
  echo "stopped. logs in $RUN/"
  exit 0
}
trap stop INT TERM EXIT

setsid "$KS" broker --partitions 4 --bootstrap-file "$RUN/bootstrap" > "$RUN/broker.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$RUN/bootstrap" ] && break; sleep 0.1; done
[ -s "$RUN/bootstrap" ] || { cat "$RUN/broker.log"; exit 1; }
echo "broker: $(cat "$RUN/bootstrap")"
setsid "$KS" run -c deploy/demo.yaml --bootstrap-file "$RUN/bootstrap" --plugin-dir "$PLUGINS" \
  > "$RUN/kpistream.log" 2>&1 &
pids+=($!)
setsid "$KS" simulate --bootstrap-file "$RUN/bootstrap" --seed 42 --speed "${KS_DEMO_SPEED:-300}" \
  > "$RUN/simulate.log" 2>&1 &
pids+=($!)
echo "simulator and kpistream running; KPI tables appear as intervals close (Ctrl-C to stop)"
# watch runs in the background too, so Ctrl-C (or SIGTERM) reaches the trap at
# once and every process is stopped in reverse order.
# Topics of families not in deploy/demo.yaml (yet) exist on the broker and stay
# empty; the watcher shows what arrives.
topics=()
for t in operations experience workforce quality value forecast scorecard alerts; do
  topics+=(-t "kpi.$t")
done
setsid "$KS" watch --bootstrap-file "$RUN/bootstrap" --from-beginning "${topics[@]}" &
pids+=($!)
echo "${pids[*]}" > "$RUN/pids"
wait "${pids[-1]}"
