#!/usr/bin/env bash
# Scale-out through consumer groups: while a simulator publishes a live
# stream, instances A and B of one group split the tasks, C joins mid-stream,
# A leaves mid-stream (SIGTERM), then B and C stop; one more instance of the
# group finishes the bounded input (--until-eof). Every handover goes through
# a checkpoint: the revoking instance checkpoints and commits its tasks, the
# new owner restores them. The highest revision per key on the output topic
# must equal an uninterrupted single-instance run over the same events.
#
# usage: e2e_rebalance.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR
set -euo pipefail
export LC_ALL=C
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3
. "$SRC/tests/e2e/lib.sh"

WORK=$(mktemp -d)
BROKER_PID=
PIDS=()
cleanup() {
  # only our own jobs still running (a remembered pid may have been reused)
  for p in $(jobs -pr); do [ "$p" != "$BROKER_PID" ] && kill -9 "$p" 2>/dev/null; done
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  [ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

"$KPISTREAM" broker --partitions 4 --topic kpi.ref.operations:4 --bootstrap-file "$WORK/bootstrap" \
  --exit-after 600 > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30

config() { # config GROUP OUTPUT_TOPIC
  cat <<YAML
kafka:
  consumer:
    group.id: $1
    session.timeout.ms: 6000
    fetch.wait.max.ms: 50
input:
  topics: [events.voice, events.email, events.chat, events.agent, events.feedback, events.business]
intervals: {length: 15m, allowed_lateness: 5m, idle_timeout: 0s}
checkpoint: {interval: 200ms}
plugin_dir: $PLUGIN_DIR
plugins:
  - {name: operations, topic: $2}
stats_interval: 0s
log_level: info
YAML
}
config scale kpi.operations > "$WORK/scale.yaml"
config ref kpi.ref.operations > "$WORK/ref.yaml"

start() { # start NAME [--until-eof]
  "$KPISTREAM" run -c "$WORK/scale.yaml" --bootstrap-file "$WORK/bootstrap" "${@:2}" \
    > "$WORK/$1.log" 2>&1 &
  PIDS+=($!)
  eval "PID_$1=$!"
}
wait_log() { # wait_log FILE PATTERN SECONDS
  local deadline=$((SECONDS + $3))
  until grep -q "$2" "$1" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { tail -5 "$1"; e2e_fail "timed out waiting for '$2' in $1"; }
    sleep 0.1
  done
}
assigned() { grep -c "assigned [1-9]" "$1" || true; }

# A live stream: 8 simulated hours, 4 tenants, at 1800x (16 s of wall time).
"$KPISTREAM" simulate --bootstrap-file "$WORK/bootstrap" --seed 5 --tenants 4 --duration 8h \
  --speed 1800 --log-level warn > "$WORK/sim.log" 2>&1 &
SIM_PID=$!
PIDS+=($SIM_PID)

start A
start B
wait_log "$WORK/A.log" "assigned [1-9]" 60
wait_log "$WORK/B.log" "assigned [1-9]" 60
echo "A and B share the tasks"
start C
wait_log "$WORK/C.log" "assigned [1-9]" 60
echo "C joined: $(grep -c 'revoked' "$WORK/A.log") revocations seen by A"
kill -TERM "$PID_A"
wait "$PID_A" || e2e_fail "A did not stop cleanly"
grep -q "stopped:" "$WORK/A.log" || e2e_fail "A has no summary"
echo "A left"
wait "$SIM_PID" || { cat "$WORK/sim.log"; e2e_fail "simulate failed"; }
events=$(sed -n 's/^ *total *\([0-9]*\) produced.*/\1/p' "$WORK/sim.log")
kill -TERM "$PID_B" "$PID_C"
wait "$PID_B" || e2e_fail "B did not stop cleanly"
wait "$PID_C" || e2e_fail "C did not stop cleanly"
start D --until-eof
wait "$PID_D" || { tail -20 "$WORK/D.log"; e2e_fail "D failed"; }
restored=$(cat "$WORK"/[ABCD].log | grep -c "restored checkpoint" || true)
[ "$restored" -ge 4 ] || e2e_fail "only $restored task restores seen"

timeout 120 "$KPISTREAM" run -c "$WORK/ref.yaml" --bootstrap-file "$WORK/bootstrap" --until-eof \
  > "$WORK/ref.log" 2>&1 || { tail -20 "$WORK/ref.log"; e2e_fail "reference run failed"; }
total_in=0
for n in A B C D; do
  e=$(sed -n 's/.*stopped: events \([0-9]*\),.*/\1/p' "$WORK/$n.log")
  total_in=$((total_in + e))
done
ref_in=$(sed -n 's/.*stopped: events \([0-9]*\),.*/\1/p' "$WORK/ref.log")

"$KPISTREAM" dump --bootstrap-file "$WORK/bootstrap" kpi.ref.operations > "$WORK/ref.dump"
"$KPISTREAM" dump --bootstrap-file "$WORK/bootstrap" kpi.operations > "$WORK/scale.dump"
check_no_conflicts "$WORK/scale.dump"
latest_by_key "$WORK/ref.dump" > "$WORK/ref.latest"
latest_by_key "$WORK/scale.dump" > "$WORK/scale.latest"
missing=$(join -t "$(printf '\t')" -v1 "$WORK/ref.latest" "$WORK/scale.latest" | wc -l)
extra=$(join -t "$(printf '\t')" -v2 "$WORK/ref.latest" "$WORK/scale.latest" | wc -l)
differ=$(diff "$WORK/ref.latest" "$WORK/scale.latest" | grep -c '^>' || true)
echo "events produced $events, read by the group $total_in (reference $ref_in), task restores" \
  "$restored, results $(wc -l < "$WORK/ref.latest"), missing $missing, extra $extra," \
  "different $differ, conflicts 0"
if [ "$missing" -ne 0 ] || [ "$extra" -ne 0 ] || [ "$differ" -ne 0 ]; then
  diff "$WORK/ref.latest" "$WORK/scale.latest" | head -20
  e2e_fail "results of the scaled group differ from the single-instance run"
fi
