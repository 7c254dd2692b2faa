#!/usr/bin/env bash
# The broker process dies under a live `kpistream run`: the run says so
# within seconds (and again after 30 s while it lasts), keeps retrying,
# and a SIGTERM then stops it within shutdown.timeout plus a small margin,
# with a final message saying what was and was not delivered and committed.
# usage: e2e_broker_down.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3
. "$SRC/tests/e2e/lib.sh"
WORK=$(mktemp -d)
BROKER_PID= RUN_PID=
cleanup() {
  local rc=$?
  [ -n "$RUN_PID" ] && kill -9 "$RUN_PID" 2>/dev/null && wait "$RUN_PID" 2>/dev/null
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  if [ -n "${KS_E2E_KEEP:-}" ]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
SHUTDOWN_S=4 # shutdown.timeout of the run below
MARGIN_S=6   # what a stop may take beyond it (loop exit, destroying the clients), generous

wait_until() { # wait_until SECONDS WHAT COMMAND...
  local what=$2 deadline=$((SECONDS + $1))
  shift 2
  until "$@"; do
    [ $SECONDS -lt $deadline ] || { tail -20 "$WORK/run.log"; e2e_fail "timed out waiting for $what"; }
    sleep 0.1
  done
}

"$KPISTREAM" broker --partitions 2 --bootstrap-file "$WORK/bootstrap" --exit-after 200 \
  > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
"$KPISTREAM" simulate --bootstrap-file "$WORK/bootstrap" --seed 3 --speed max --duration 2h \
  > "$WORK/sim.out" 2> "$WORK/sim.log" || { cat "$WORK/sim.log"; e2e_fail "simulate failed"; }

cat > "$WORK/run.yaml" <<YAML
kafka:
  consumer: {group.id: down, session.timeout.ms: 6000, fetch.wait.max.ms: 50}
input: {topics: [events.voice, events.email, events.chat, events.agent]}
intervals: {length: 15m, allowed_lateness: 30s}
checkpoint: {interval: 200ms}
shutdown: {timeout: ${SHUTDOWN_S}s}
plugin_dir: $PLUGIN_DIR
plugins:
  - {name: operations, topic: kpi.operations}
stats_interval: 250ms
YAML
"$KPISTREAM" run -c "$WORK/run.yaml" --bootstrap-file "$WORK/bootstrap" > "$WORK/run.log" 2>&1 &
RUN_PID=$!
committed() { grep -q 'commits [1-9]' "$WORK/run.log"; }
wait_until 60 "the run to commit" committed

# The broker dies (no goodbye: SIGKILL).
kill -9 "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null || true
BROKER_PID=
T_KILL=$SECONDS
said_so() { grep -q "unreachable" "$WORK/run.log"; }
wait_until 10 "the run to say the broker is unreachable" said_so
echo "broker unreachable logged after $((SECONDS - T_KILL)) s:"
grep -m1 "unreachable" "$WORK/run.log"
kill -0 "$RUN_PID" || e2e_fail "the run exited on its own while the broker was down"

# ... and again every 30 s while it lasts, still retrying, not stopping
said_again() { grep -q "brokers still unreachable after [0-9]* s" "$WORK/run.log"; }
wait_until 45 "the run to say again that the broker is unreachable" said_again
grep -m1 "brokers still unreachable after" "$WORK/run.log"
kill -0 "$RUN_PID" || e2e_fail "the run gave up while the broker was down"
T_TERM=$SECONDS
kill -TERM "$RUN_PID"
set +e
wait "$RUN_PID"
rc=$?
set -e
RUN_PID=
took=$((SECONDS - T_TERM))
echo "SIGTERM -> exit $rc after $took s (shutdown.timeout ${SHUTDOWN_S} s)"
tail -5 "$WORK/run.log"
[ "$took" -le $((SHUTDOWN_S + MARGIN_S)) ] ||
  e2e_fail "stopping took $took s, more than shutdown.timeout ${SHUTDOWN_S} s + ${MARGIN_S} s"
[ "$rc" -ne 0 ] || e2e_fail "the run exited 0 although its last results were not delivered"
grep -q "shutdown: .*not delivered" "$WORK/run.log" ||
  e2e_fail "no final message saying what was not delivered"
echo "OK"
