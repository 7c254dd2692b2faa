#!/usr/bin/env bash
# End to end: embedded broker, events encoded independently (protoc --encode)
# and produced with kcat, one garbage message, `kpistream run --until-eof`,
# results read back with kcat and decoded with protoc --decode, compared with
# hand-checked values (tests/e2e/expected_operations.txt).
#
# usage: e2e_pipeline.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR TEST_PLUGIN_DIR
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3 TEST_PLUGIN_DIR=$4
# KS_E2E_WRAPPER (e.g. "valgrind --error-exitcode=99 ...") wraps the runs of
# `kpistream run` whose results are checked; empty by default.
read -r -a WRAP <<< "${KS_E2E_WRAPPER:-}"
. "$SRC/tests/e2e/lib.sh"
PROTO=$SRC/proto
for tool in kcat protoc; do command -v $tool >/dev/null || e2e_fail "$tool is not installed"; done

WORK=$(mktemp -d)
BROKER_PID=
cleanup() {
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# 1. broker (stops by itself after 300 s even if this script is killed)
"$KPISTREAM" broker --partitions 2 --topic events.odd:3 --bootstrap-file "$WORK/bootstrap" --exit-after 300 \
  > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
BS=$(cat "$WORK/bootstrap")
echo "broker at $BS"

# 2. events: text format -> binary with protoc, one file per message
T=1795428000000 # 2026-11-23T10:00:00Z
at() { echo $((T + $1 * 1000)); } # seconds after 10:00:00
i=0
ev() { # ev SECONDS CONTACT BODY [AGENT]
  i=$((i + 1))
  encode_event "$PROTO" "event_id: \"e$i\" event_time_ms: $(at "$1") tenant: \"acme\"
    channel: CHANNEL_VOICE contact_id: \"$2\" customer_id: \"cust-$2\" queue: \"sales\"
    agent_id: \"${4:-}\" $3" "$WORK/$(printf 'ev%03d.bin' $i)"
}
ev 0 c1 'contact_queued {}'
ev 10 c1 'contact_answered {}' a1
ev 60 c1 'hold_started {}' a1
ev 90 c1 'hold_ended {}' a1
ev 120 c2 'contact_queued {}'
ev 150 c2 'contact_answered {}' a2
ev 180 c3 'contact_queued {}'
ev 190 c1 'contact_ended { disconnected_by: PARTY_CUSTOMER }' a1
ev 225 c3 'contact_abandoned { stage: ABANDON_IN_QUEUE }'
ev 250 c1 'acw_ended { reason_code: "billing" resolved: true }' a1
ev 300 c4 'contact_queued {}'
ev 303 c4 'contact_abandoned { stage: ABANDON_IN_QUEUE }'
ev 390 c2 'contact_ended { disconnected_by: PARTY_AGENT }' a2
ev 420 c2 'acw_ended { reason_code: "sales" resolved: true }' a2
ev 600 c5 'contact_queued {}'
ev 605 c5 'contact_answered {}' a1
ev 725 c5 'contact_ended { disconnected_by: PARTY_CUSTOMER }' a1
ev 755 c5 'acw_ended { reason_code: "billing" resolved: true }' a1
printf 'this is not a protobuf event' > "$WORK/zz_garbage.bin"

# 3. produce, keyed by tenant (the partitioning contract)
kcat -P -b "$BS" -t events.voice -k acme "$WORK"/ev*.bin
kcat -P -b "$BS" -t events.voice -k acme -H trace-id=t-123 "$WORK/zz_garbage.bin"

# 4. run kpistream over the bounded input
cat > "$WORK/kpistream.yaml" <<YAML
kafka:
  consumer:
    group.id: e2e
    session.timeout.ms: 6000
    fetch.wait.max.ms: 50
input:
  topics: [events.voice, events.email, events.chat]
  dead_letter_topic: kpistream.dlq
intervals: {length: 15m, allowed_lateness: 0s}
plugin_dir: $PLUGIN_DIR
plugins:
  - name: operations
    topic: kpi.operations
stats_interval: 0s
YAML
timeout 240 "${WRAP[@]}" "$KPISTREAM" run -c "$WORK/kpistream.yaml" \
  --bootstrap-file "$WORK/bootstrap" --until-eof > "$WORK/run.log" 2>&1 || { cat "$WORK/run.log"; e2e_fail "kpistream run exited $?"; }
grep -q "stopped: events 19, dispatched 18, rejected 1 (dead-lettered 1)" "$WORK/run.log" ||
  { cat "$WORK/run.log"; e2e_fail "unexpected run summary"; }

# 5. results off the wire, decoded by protoc
n=$(dump_topic "$BS" kpi.operations "$WORK/out")
echo "read $n results from kpi.operations"
decode_results "$PROTO" "$WORK/out" | sort > "$WORK/results.txt"
grep -v '^#' "$SRC/tests/e2e/expected_operations.txt" | grep -v '^$' | sort > "$WORK/expected.txt"
# exactly the expected results are on the wire: none missing, none extra, none different
if ! diff -u "$WORK/expected.txt" "$WORK/results.txt"; then
  e2e_fail "results on kpi.operations differ from tests/e2e/expected_operations.txt (diff above)"
fi
# no key twice
dups=$(cut -d' ' -f1 "$WORK/results.txt" | uniq -d)
[ -z "$dups" ] || e2e_fail "duplicate result keys: $dups"
echo "all $(wc -l < "$WORK/expected.txt") expected results match"
decode_levels "$PROTO" "$WORK/out" > "$WORK/levels.txt"
check_levels "$SRC/tests/e2e/expected_operations.levels" "$WORK/levels.txt"

# 6. the garbage message is on the dead-letter topic, unchanged, with its reason
dlq=$(kcat -C -b "$BS" -t kpistream.dlq -o beginning -e -q -f '%s|%h\n')
case "$dlq" in
  "this is not a protobuf event|trace-id=t-123,"*"kpistream.reason=protobuf decode failed"*"kpistream.source.topic=events.voice"*) ;;
  *) e2e_fail "dead-letter topic holds: '$dlq'" ;;
esac
echo "garbage message dead-lettered with its own headers and the reason"

# 7. offsets were committed: a second run reads nothing and emits nothing
timeout 240 "${WRAP[@]}" "$KPISTREAM" run -c "$WORK/kpistream.yaml" \
  --bootstrap-file "$WORK/bootstrap" --until-eof > "$WORK/run2.log" 2>&1 || { cat "$WORK/run2.log"; e2e_fail "second run failed"; }
grep -q "stopped: events 0," "$WORK/run2.log" || { cat "$WORK/run2.log"; e2e_fail "second run re-read input"; }
n2=$(dump_topic "$BS" kpi.operations "$WORK/out2")
[ "$n2" = "$n" ] || e2e_fail "second run emitted $((n2 - n)) more results"
echo "second run resumed from committed offsets: nothing re-read"

# 8. refusals at start exit non-zero with the reason
cat > "$WORK/odd.yaml" <<YAML
input: {topics: [events.voice, events.odd]}
plugin_dir: $PLUGIN_DIR
plugins: [{name: operations}]
YAML
set +e
out=$("$KPISTREAM" run -c "$WORK/odd.yaml" --bootstrap-file "$WORK/bootstrap" 2>&1); rc=$?
set -e
[ $rc -eq 2 ] || e2e_fail "co-partitioning mismatch exited $rc"
case "$out" in *"not co-partitioned: 'events.voice' has 2 partitions, 'events.odd' has 3"*) ;;
  *) e2e_fail "co-partitioning refusal said: $out" ;; esac
cat > "$WORK/abi.yaml" <<YAML
input: {topics: [events.voice]}
plugins: [{name: abi_major, path: $TEST_PLUGIN_DIR/abi_major.so}]
YAML
set +e
out=$("$KPISTREAM" run -c "$WORK/abi.yaml" --check-config 2>&1); rc=$?
set -e
[ $rc -eq 2 ] || e2e_fail "ABI refusal exited $rc"
case "$out" in *"abi_major.so: plugin ABI 2.3 is incompatible with host ABI 1.3"*) ;;
  *) e2e_fail "ABI refusal said: $out" ;; esac
echo "co-partitioning mismatch and ABI mismatch refused with exit 2"
