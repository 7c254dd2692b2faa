#!/usr/bin/env bash
# Bounded memory: with a state.memory_budget far below what the stream's
# state needs at full speed, kpistream pauses the input partitions that run
# ahead of their task's watermark (rd_kafka_pause_partitions), says so in
# its log, resumes when state shrinks, and loses nothing: its results equal
# those of a run without a budget.
#
# usage: e2e_budget.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR
set -euo pipefail
export LC_ALL=C
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3
. "$SRC/tests/e2e/lib.sh"

WORK=$(mktemp -d)
BROKER_PID=
cleanup() {
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  [ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

"$KPISTREAM" broker --partitions 2 --topic kpi.ref.operations:2 --bootstrap-file "$WORK/bootstrap" \
  --exit-after 300 > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
"$KPISTREAM" simulate --bootstrap-file "$WORK/bootstrap" --seed 3 --tenants 3 --duration 1d \
  --speed max --log-level warn > "$WORK/sim.log" 2>&1 || { cat "$WORK/sim.log"; e2e_fail "simulate failed"; }

config() { # config GROUP OUTPUT_TOPIC BUDGET
  cat <<YAML
kafka:
  consumer: {group.id: $1, session.timeout.ms: 6000, fetch.wait.max.ms: 50}
input:
  topics: [events.voice, events.email, events.chat, events.agent, events.feedback, events.business]
intervals: {length: 15m, allowed_lateness: 2m}
state: {memory_budget: $3}
plugin_dir: $PLUGIN_DIR
plugins:
  - {name: operations, topic: $2}
stats_interval: 0s
YAML
}
config ref kpi.ref.operations 0 > "$WORK/ref.yaml"
config tight kpi.operations 64KiB > "$WORK/tight.yaml"
for run in ref tight; do
  timeout 200 "$KPISTREAM" run -c "$WORK/$run.yaml" --bootstrap-file "$WORK/bootstrap" --until-eof \
    > "$WORK/$run.log" 2>&1 || { tail -20 "$WORK/$run.log"; e2e_fail "$run run failed"; }
done
hits=$(grep -c "over state.memory_budget 65536: paused" "$WORK/tight.log" || true)
resumes=$(grep -c "resum" "$WORK/tight.log" || true)
[ "$hits" -ge 1 ] || { tail -20 "$WORK/tight.log"; e2e_fail "the budget was never hit"; }
[ "$resumes" -ge 1 ] || e2e_fail "paused partitions were never resumed"

"$KPISTREAM" dump --bootstrap-file "$WORK/bootstrap" kpi.ref.operations > "$WORK/ref.dump"
"$KPISTREAM" dump --bootstrap-file "$WORK/bootstrap" kpi.operations > "$WORK/tight.dump"
latest_by_key "$WORK/ref.dump" > "$WORK/ref.latest"
latest_by_key "$WORK/tight.dump" > "$WORK/tight.latest"
if ! cmp -s "$WORK/ref.latest" "$WORK/tight.latest"; then
  diff "$WORK/ref.latest" "$WORK/tight.latest" | head -20
  e2e_fail "results under a memory budget differ from the unbounded run"
fi
events=$(sed -n 's/.*stopped: events \([0-9]*\),.*/\1/p' "$WORK/tight.log")
echo "events $events, budget 64 KiB hit $hits times, resumed $resumes times," \
  "results $(wc -l < "$WORK/ref.latest") identical to the unbounded run"
