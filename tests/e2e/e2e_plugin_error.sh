#!/usr/bin/env bash
# A plugin that returns an error is isolated: the host logs and counts it,
# the other plugin's results are complete, and nothing of the task is
# checkpointed or committed past the failed event, so the next run (with the
# plugin fixed) processes it again, and the run after that reads nothing.
#
# usage: e2e_plugin_error.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR TEST_PLUGIN_DIR
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3 TEST_PLUGIN_DIR=$4
. "$SRC/tests/e2e/lib.sh"
PROTO=$SRC/proto

WORK=$(mktemp -d)
BROKER_PID=
cleanup() {
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  [ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

"$KPISTREAM" broker --partitions 1 --bootstrap-file "$WORK/bootstrap" --exit-after 200 \
  > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
BS=$(cat "$WORK/bootstrap")

# 8 events: queue "sales" except the 5th (offset 4), in queue "bad"
T=1795428000000
for i in 0 1 2 3 4 5 6 7; do
  q=sales
  [ $i -eq 4 ] && q=bad
  encode_event "$PROTO" "event_id: \"e$i\" event_time_ms: $((T + i * 60000)) tenant: \"acme\"
    channel: CHANNEL_VOICE contact_id: \"c$i\" queue: \"$q\" contact_queued {}" \
    "$WORK/$(printf 'ev%02d.bin' $i)"
done
kcat -P -b "$BS" -t events.voice -k acme "$WORK"/ev*.bin

config() { # config FAIL_QUEUE
  cat <<YAML
kafka:
  consumer: {group.id: perr, session.timeout.ms: 6000, fetch.wait.max.ms: 50}
input: {topics: [events.voice]}
intervals: {length: 15m, allowed_lateness: 0s}
checkpoint: {interval: 50ms}
plugin_dir: $PLUGIN_DIR
plugins:
  - {name: operations, topic: kpi.operations}
  - {name: counter, path: $TEST_PLUGIN_DIR/counter.so, topic: kpi.counter, options: {fail_queue: "$1"}}
stats_interval: 0s
YAML
}
run() { # run N FAIL_QUEUE
  config "$2" > "$WORK/run$1.yaml"
  timeout 120 "$KPISTREAM" run -c "$WORK/run$1.yaml" --bootstrap-file "$WORK/bootstrap" --until-eof \
    > "$WORK/run$1.log" 2>&1 || { cat "$WORK/run$1.log"; e2e_fail "run $1 exited $?"; }
}

run 1 bad
grep -q "on_event failed with -1004 at events.voice \[0\] offset 4" "$WORK/run1.log" ||
  { cat "$WORK/run1.log"; e2e_fail "the plugin error was not logged with its offset"; }
grep -q "task 0: a plugin failed on events.voice \[0\] offset 4; its checkpoints and commits are held" \
  "$WORK/run1.log" || e2e_fail "the task was not held"
grep -q "stopped: events 8, .* plugin errors 1," "$WORK/run1.log" || e2e_fail "run 1 summary"
# isolation: operations saw all 8 offered (7 sales + 1 bad)
n_ops=$(dump_topic "$BS" kpi.operations "$WORK/ops1")
decode_results "$PROTO" "$WORK/ops1" > "$WORK/ops1.txt"
grep -q '^operations/offered|acme|voice|bad|||1795428000000 1$' "$WORK/ops1.txt" ||
  e2e_fail "operations did not count the event the other plugin failed on"

run 2 none # the plugin "fixed": the failed event and those after it come again
grep -q "stopped: events [4-8], .* plugin errors 0," "$WORK/run2.log" ||
  { grep stopped "$WORK/run2.log"; e2e_fail "run 2 did not re-read from before the failed event"; }
again=$(sed -n 's/.*stopped: events \([0-9]*\),.*/\1/p' "$WORK/run2.log")
run 3 none
grep -q "stopped: events 0," "$WORK/run3.log" || e2e_fail "run 3 re-read input"
echo "plugin error at offset 4 isolated: operations results $n_ops, run 2 re-read $again events" \
  "(failed one included), run 3 read 0"
