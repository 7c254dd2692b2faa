#!/usr/bin/env bash
# One plugin loaded twice under two instance names with different options
# (plugins[].instance, docs/configuration.md), against the embedded broker:
#  - operations as ops_fast (service_level.threshold 10s) and ops_slow (60s)
#    over the same three answered contacts (waits 5 s, 30 s, 90 s) publish
#    different service levels, computed by hand: 1/3 and 2/3, each to its own
#    topic (kpi.ops_fast, kpi.ops_slow), decoded with protoc;
#  - each instance has its own changelog topic (<prefix>.<instance>) and log
#    line; a restart restores both and reads nothing;
#  - counter as cnt_bad (fail_queue: sales) and cnt_ok: the dead letter of
#    the event cnt_bad fails on names the instance (kpistream.plugin=cnt_bad) on all 6 of its events.
#
# usage: e2e_instances.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR TEST_PLUGIN_DIR
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

"$KPISTREAM" broker --partitions 1 --bootstrap-file "$WORK/bootstrap" --exit-after 280 \
  > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
BS=$(cat "$WORK/bootstrap")

# three voice contacts queued at T + i min, answered after 5 s, 30 s and 90 s
T=1795428000000
n=0
ev() { # ev TIME_MS CONTACT BODY
  encode_event "$PROTO" "event_id: \"e$n\" event_time_ms: $1 tenant: \"acme\"
    channel: CHANNEL_VOICE contact_id: \"$2\" queue: \"sales\" agent_id: \"a1\" $3" \
    "$WORK/$(printf 'ev%02d.bin' $n)"
  n=$((n + 1))
}
i=0
for wait_s in 5 30 90; do
  q=$((T + i * 60000))
  ev "$q" "c$i" 'contact_queued {}'
  ev $((q + wait_s * 1000)) "c$i" 'contact_answered {}'
  i=$((i + 1))
done
kcat -P -b "$BS" -t events.voice -k acme "$WORK"/ev*.bin

cat > "$WORK/inst.yaml" <<YAML
kafka:
  consumer: {group.id: inst, session.timeout.ms: 6000, fetch.wait.max.ms: 50}
input: {topics: [events.voice], dead_letter_topic: dlq.inst}
intervals: {length: 15m, allowed_lateness: 0s}
checkpoint: {interval: 50ms, topic_prefix: inst.changelog}
plugin_dir: $PLUGIN_DIR
plugins:
  - name: operations
    instance: ops_fast
    options: {service_level.threshold: 10s}
  - name: operations
    instance: ops_slow
    options: {service_level.threshold: 60s}
  - {name: counter, instance: cnt_bad, path: $TEST_PLUGIN_DIR/counter.so, options: {fail_queue: sales}}
  - {name: counter, instance: cnt_ok, path: $TEST_PLUGIN_DIR/counter.so}
stats_interval: 0s
YAML

run() { # run NAME — must exit 0
  timeout 120 "$KPISTREAM" run -c "$WORK/inst.yaml" --bootstrap-file "$WORK/bootstrap" \
    --until-eof > "$WORK/$1.log" 2>&1 || { cat "$WORK/$1.log"; e2e_fail "run $1 exited $?"; }
}
summary() { grep "runner: stopped:" "$WORK/$1.log"; }

run first
for i in ops_fast ops_slow; do
  grep -q "loaded plugin operations .* as instance $i -> topic kpi.$i" "$WORK/first.log" ||
    { cat "$WORK/first.log"; e2e_fail "no load line for instance $i"; }
done

# different options, different results: service level 1/3 (10 s) and 2/3 (60 s)
key='operations/service_level|acme|voice|sales|||1795428000000'
for i in ops_fast ops_slow; do
  dump_topic "$BS" "kpi.$i" "$WORK/$i" > /dev/null
  decode_results "$PROTO" "$WORK/$i" > "$WORK/$i.txt"
done
fast=$(awk -v k="$key" '$1 == k { print $2 }' "$WORK/ops_fast.txt")
slow=$(awk -v k="$key" '$1 == k { print $2 }' "$WORK/ops_slow.txt")
awk -v v="$fast" 'BEGIN { exit !(v > 0.3333333 && v < 0.3333334) }' ||
  { cat "$WORK/ops_fast.txt"; e2e_fail "ops_fast service level is '$fast', want 1/3"; }
awk -v v="$slow" 'BEGIN { exit !(v > 0.6666666 && v < 0.6666667) }' ||
  { cat "$WORK/ops_slow.txt"; e2e_fail "ops_slow service level is '$slow', want 2/3"; }
# the rest of the two instances' results are the same (same events, same other options)
diff <(grep -v '^operations/service_level|' "$WORK/ops_fast.txt" | sort) \
  <(grep -v '^operations/service_level|' "$WORK/ops_slow.txt" | sort) > /dev/null ||
  e2e_fail "the two instances differ in more than the service level"

# changelog topics per instance
kcat -L -b "$BS" > "$WORK/topics.txt"
for i in ops_fast ops_slow cnt_bad cnt_ok; do
  grep -q "topic \"inst.changelog.$i\"" "$WORK/topics.txt" ||
    { cat "$WORK/topics.txt"; e2e_fail "no changelog topic inst.changelog.$i"; }
done

# the dead letters name the failing instance (its 6 events: queued and answered), never the other
kcat -C -b "$BS" -t dlq.inst -o beginning -e -q -f '%h\n' > "$WORK/dlq.txt"
[ "$(grep -c 'kpistream.plugin=cnt_bad' "$WORK/dlq.txt")" -eq 6 ] ||
  { cat "$WORK/dlq.txt"; e2e_fail "want 6 dead letters naming cnt_bad"; }
! grep -q 'kpistream.plugin=cnt_ok\|kpistream.plugin=counter' "$WORK/dlq.txt" ||
  e2e_fail "a dead letter names another instance"
grep -q "cnt_bad: on_event failed with -1004 at events.voice \[0\] offset 0" "$WORK/first.log" ||
  e2e_fail "the failure is not logged under the instance name"

# a restart restores every instance from its own changelog and reads nothing
run second
summary second | grep -q "stopped: events 0, .*restores 1," ||
  { summary second; e2e_fail "the restart did not restore (every instance's checkpoint of task 0) and read 0 events"; }
echo "ops_fast service level $fast, ops_slow $slow; 4 changelogs; 6 dead letters name cnt_bad;" \
  "restart restored task 0 from the 4 changelogs and read 0 events"
