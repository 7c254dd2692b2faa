#!/usr/bin/env bash
# Dead letters that do not fit, forged kpistream.* headers, and a dead letter
# the broker refuses, end to end against the embedded broker:
#
# 1. events.voice holds valid events of one contact (keyed by tenant), a
#    2 MiB message of garbage (larger than the producer's default
#    message.max.bytes of 1000000) and a garbage message carrying forged
#    kpistream.reason / kpistream.source.offset / kpistream.truncated headers.
#    `kpistream run --until-eof` must exit 0; the 2 MiB message is on the
#    dead-letter topic as a bounded record (its first N bytes, N just under
#    1000000, kpistream.truncated=2097152, its key and its own header); the
#    forged headers arrive renamed kpistream.original.*, followed by the real
#    ones; results equal a run over the valid events alone; the run summary
#    counts 2 rejected, 1 dead letter truncated; a second run reads nothing
#    (the offsets were committed past both).
# 2. With kafka.producer.message.max.bytes 50000, a 100000-byte message is cut
#    to fit 50000: the limit is the producer's, read from its configuration.
# 3. The broker refuses the dead letter (TOPIC_AUTHORIZATION_FAILED, injected
#    through --control): the run stops with exit 1 and a message naming the
#    input topic, partition and offset, commits nothing, and the next run
#    dead-letters the message: nothing is lost.
# 4. An event whose queue holds a byte 0xff (not UTF-8, which proto3 strings
#    must be) among valid ones, with output.format json: it is dead-lettered
#    with a reason naming the field and the byte, and the interval's results
#    are all published, byte for byte the JSON of a run over the valid
#    events alone. So is one whose queue "sales\0x" holds a NUL byte (valid
#    UTF-8, but protobuf-c's char * would cut it to "sales": it used to be
#    counted silently as an offer of the queue "sales").
#
# usage: e2e_dead_letter.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3
# KS_E2E_WRAPPER (e.g. "valgrind --error-exitcode=99 ...") wraps the runs of
# `kpistream run`; empty by default.
read -r -a WRAP <<< "${KS_E2E_WRAPPER:-}"
. "$SRC/tests/e2e/lib.sh"
PROTO=$SRC/proto
for tool in kcat protoc od cmp; do command -v $tool >/dev/null || e2e_fail "$tool is not installed"; done

WORK=$(mktemp -d)
BROKER_PID=
cleanup() {
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# broker: one partition per topic, so the dead-letter topic keeps produce order
"$KPISTREAM" broker --partitions 1 --no-default-topics --topic events.voice --topic events.email \
  --topic events.chat --topic perm.events --topic kpistream.dlq --topic kpi.operations \
  --topic clean.operations --topic utf8.events --topic utf8.operations \
  --topic utf8clean.operations --control "$WORK/ctl" --control-ack "$WORK/ack" \
  --bootstrap-file "$WORK/bootstrap" --exit-after 300 > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
BS=$(cat "$WORK/bootstrap")
echo "broker at $BS"
syncs=0
control() { # control CMD — applied by the broker before this returns
  syncs=$((syncs + 1))
  printf '%s\nsync\n' "$1" > "$WORK/ctl"
  local deadline=$((SECONDS + 30))
  until grep -qx "ok $syncs" "$WORK/ack" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || e2e_fail "broker did not apply '$1'"
    sleep 0.1
  done
}

T=1795428000000 # 2026-11-23T10:00:00Z
n=0
ev() { # ev SECONDS CONTACT BODY [AGENT] — a valid acme event, into $WORK/ev_NN.bin
  n=$((n + 1))
  encode_event "$PROTO" "event_id: \"e$n\" event_time_ms: $((T + $1 * 1000)) tenant: \"acme\"
    channel: CHANNEL_VOICE contact_id: \"$2\" queue: \"sales\" agent_id: \"${4:-}\" $3" \
    "$(printf '%s/ev_%02d.bin' "$WORK" $n)"
}
ev 0 c1 'contact_queued {}'
ev 5 c1 'contact_offered { ring_ms: 4000 accepted: true }' a1
ev 10 c1 'contact_answered {}' a1
ev 190 c1 'contact_ended { disconnected_by: PARTY_CUSTOMER }' a1
ev 250 c1 'acw_ended { reason_code: "billing" resolved: true }' a1
ev 1000 c2 'contact_queued {}'
# 2 MiB that no decoder accepts (a varint field key that never ends, then noise)
{ printf '\377\377\377\001\002'; head -c $((2 * 1048576 - 5)) /dev/urandom; } > "$WORK/big.bin"
printf 'this is not a protobuf event' > "$WORK/forged.bin"

P1=(kcat -P -b "$BS" -t events.voice -k acme)
"${P1[@]}" "$WORK/ev_01.bin" "$WORK/ev_02.bin"                       # offsets 0, 1
"${P1[@]}" -X message.max.bytes=4000000 -H trace-id=big-1 "$WORK/big.bin" # offset 2
"${P1[@]}" "$WORK/ev_03.bin"                                         # offset 3
"${P1[@]}" -H x-app=1 -H "kpistream.reason=all good" -H kpistream.source.offset=0 \
  -H kpistream.truncated=5 "$WORK/forged.bin"                        # offset 4
"${P1[@]}" "$WORK"/ev_0[4-6].bin                                     # offsets 5..7
kcat -P -b "$BS" -t events.email -k acme "$WORK"/ev_0[1-6].bin        # the valid ones alone

write_config() { # write_config FILE GROUP INPUT OUTPUT [EXTRA YAML LINES]
  {
    printf 'kafka:\n  consumer:\n    group.id: %s\n    session.timeout.ms: 6000\n' "$2"
    printf '    fetch.wait.max.ms: 50\n%s' "${5:-}"
    printf 'input:\n  topics: [%s]\n  dead_letter_topic: kpistream.dlq\n' "$3"
    printf 'intervals: {length: 15m, allowed_lateness: 0s}\nplugin_dir: %s\n' "$PLUGIN_DIR"
    printf 'plugins:\n  - {name: operations, topic: %s}\nstats_interval: 0s\n%s' "$4" "${6:-}"
  } > "$1"
}
run() { # run CONFIG LOG WANT_RC
  local rc=0
  timeout 240 "${WRAP[@]}" "$KPISTREAM" run -c "$1" --bootstrap-file "$WORK/bootstrap" \
    --until-eof > "$2" 2>&1 || rc=$?
  [ $rc -eq "$3" ] || { cat "$2" >&2; e2e_fail "kpistream run -c $(basename "$1") exited $rc, not $3"; }
}
summary() { grep -o 'stopped: .*' "$1" || { cat "$1" >&2; e2e_fail "no run summary in $1"; }; }
dlq_lines() { # offset TAB key TAB value size TAB headers, per dead letter
  kcat -C -b "$BS" -t kpistream.dlq -p 0 -o beginning -e -q -f '%o\t%k\t%S\t%h\n'
}
dlq_value() { # dlq_value OFFSET OUT — the payload of one dead letter
  kcat -C -b "$BS" -t kpistream.dlq -p 0 -o "$1" -c 1 -e -q -f '%s' > "$2"
}

# -- 1. an oversized message and forged headers
write_config "$WORK/run1.yaml" dl-1 events.voice kpi.operations
write_config "$WORK/clean.yaml" dl-clean events.email clean.operations
run "$WORK/run1.yaml" "$WORK/run1.log" 0
run "$WORK/clean.yaml" "$WORK/clean.log" 0
s1=$(summary "$WORK/run1.log") s2=$(summary "$WORK/clean.log")
echo "run 1:     $s1"
echo "clean run: $s2"
d=$(printf '%s\n' "$s2" | sed -n 's/^stopped: events 6, dispatched \([0-9]*\), rejected 0 .*/\1/p')
[ -n "$d" ] || e2e_fail "clean run summary: $s2"
case "$s1" in
  "stopped: events 8, dispatched $d, rejected 2 (dead-lettered 2), late 0,"*", misrouted 0, dead letters truncated 1") ;;
  *) e2e_fail "run 1 summary: want 8 events, $d dispatched, 2 rejected and dead-lettered, 1 truncated: $s1" ;;
esac
REASON="kpistream.reason=protobuf decode failed (not a kpistream.v1.Event)"
SOURCE="kpistream.source.topic=events.voice,kpistream.source.partition=0"
dlq_lines > "$WORK/dlq1.txt"
[ "$(wc -l < "$WORK/dlq1.txt")" -eq 2 ] || { cat "$WORK/dlq1.txt" >&2; e2e_fail "want 2 dead letters"; }
IFS=$'\t' read -r o key size headers < <(sed -n 1p "$WORK/dlq1.txt")
[ "$key" = acme ] || e2e_fail "the 2 MiB message's dead letter has key '$key', not acme"
[ "$headers" = "trace-id=big-1,$REASON,$SOURCE,kpistream.source.offset=2,kpistream.truncated=2097152" ] ||
  e2e_fail "the 2 MiB message's dead letter has headers: $headers"
# all that fits: librdkafka accepts 1000000 bytes of key, value, headers and framing
[ "$size" -le $((1000000 - 36 - 4 - 200)) ] && [ "$size" -ge 999000 ] ||
  e2e_fail "the 2 MiB message's dead letter holds $size bytes of it, not just under 1000000"
dlq_value "$o" "$WORK/got_big"
head -c "$size" "$WORK/big.bin" | cmp -s - "$WORK/got_big" ||
  e2e_fail "the 2 MiB message's dead letter is not its first $size bytes"
IFS=$'\t' read -r o key size headers < <(sed -n 2p "$WORK/dlq1.txt")
want="x-app=1,kpistream.original.reason=all good,kpistream.original.source.offset=0"
want+=",kpistream.original.truncated=5,$REASON,$SOURCE,kpistream.source.offset=4"
[ "$headers" = "$want" ] || e2e_fail "forged headers: dead letter has '$headers', want '$want'"
dlq_value "$o" "$WORK/got_forged"
cmp -s "$WORK/forged.bin" "$WORK/got_forged" || e2e_fail "the forged message's dead letter is not its bytes"
echo "2 MiB message dead-lettered as its first $(sed -n '1s/^[^\t]*\t[^\t]*\t\([0-9]*\)\t.*/\1/p' "$WORK/dlq1.txt") bytes; forged headers renamed"

n1=$(dump_topic "$BS" kpi.operations "$WORK/out1")
n2=$(dump_topic "$BS" clean.operations "$WORK/out2")
decode_results "$PROTO" "$WORK/out1" | sed 's/^/R /' | sort > "$WORK/res1.txt"
decode_results "$PROTO" "$WORK/out2" | sed 's/^/R /' | sort > "$WORK/res2.txt"
[ "$n1" -gt 0 ] || e2e_fail "run 1 published no results"
diff -u "$WORK/res2.txt" "$WORK/res1.txt" || e2e_fail "results with the bad messages (+) differ from without (-)"
echo "results: $n1, identical to a run without the bad messages"

run "$WORK/run1.yaml" "$WORK/run1b.log" 0
grep -q "stopped: events 0," "$WORK/run1b.log" ||
  { cat "$WORK/run1b.log" >&2; e2e_fail "a second run read input again (offsets not committed)"; }

# -- 2. the limit is the producer's message.max.bytes
head -c 100000 /dev/urandom | { printf '\377\377\377\001\002'; head -c 99995; } > "$WORK/mid.bin"
kcat -P -b "$BS" -t events.chat -k k1 "$WORK/mid.bin"
write_config "$WORK/run2.yaml" dl-2 events.chat kpi.operations \
  "  producer:
    message.max.bytes: 50000
" "checkpoint: {enabled: false}
"
run "$WORK/run2.yaml" "$WORK/run2.log" 0
case "$(summary "$WORK/run2.log")" in
  *"rejected 1 (dead-lettered 1),"*", dead letters truncated 1") ;;
  *) e2e_fail "run 2 summary: $(summary "$WORK/run2.log")" ;;
esac
dlq_lines > "$WORK/dlq2.txt"
IFS=$'\t' read -r o key size headers < <(sed -n 3p "$WORK/dlq2.txt")
[ "$key" = k1 ] && [ "$headers" = "$REASON,kpistream.source.topic=events.chat,kpistream.source.partition=0,kpistream.source.offset=0,kpistream.truncated=100000" ] ||
  e2e_fail "the 100000-byte message's dead letter: key '$key', headers $headers"
[ "$size" -le $((50000 - 36 - 2 - 200)) ] && [ "$size" -ge 49000 ] ||
  e2e_fail "with message.max.bytes 50000 the dead letter holds $size bytes"
dlq_value "$o" "$WORK/got_mid"
head -c "$size" "$WORK/mid.bin" | cmp -s - "$WORK/got_mid" || e2e_fail "the cut dead letter is not the message's first bytes"
echo "message.max.bytes 50000: 100000-byte message dead-lettered as its first $size bytes"

# -- 3. the broker refuses the dead letter: stop, name the message, lose nothing
kcat -P -b "$BS" -t perm.events -k acme "$WORK/forged.bin"
write_config "$WORK/run3.yaml" dl-3 perm.events kpi.operations "" "checkpoint: {enabled: false}
"
control "errors Produce 1 TOPIC_AUTHORIZATION_FAILED"
run "$WORK/run3.yaml" "$WORK/run3.log" 1
grep -q "delivery of the dead letter of perm.events \[0\] offset 0 to kpistream.dlq failed: Broker: Topic authorization failed; stopping" "$WORK/run3.log" ||
  { cat "$WORK/run3.log" >&2; e2e_fail "run 3 did not stop naming the dead letter's source"; }
control "errors Produce 0"
run "$WORK/run3.yaml" "$WORK/run3b.log" 0
grep -q "stopped: events 1, dispatched 0, rejected 1 (dead-lettered 1)" "$WORK/run3b.log" ||
  { cat "$WORK/run3b.log" >&2; e2e_fail "run 3 again: the refused message was not read again"; }
[ "$(dlq_lines | grep -c 'kpistream.source.topic=perm.events,kpistream.source.partition=0,kpistream.source.offset=0')" -eq 1 ] ||
  e2e_fail "the message the broker refused is not on the dead-letter topic once"
echo "dead letter refused by the broker: stopped naming perm.events [0] offset 0; dead-lettered by the next run"

# -- 4. a string that is not UTF-8 is dead-lettered; the JSON results stay whole
# protoc encodes the queue "sa!es"; its '!' becomes 0xff (same length)
encode_event "$PROTO" "event_id: \"bad-1\" event_time_ms: $((T + 20000)) tenant: \"acme\"
  channel: CHANNEL_VOICE contact_id: \"c3\" queue: \"sa!es\" contact_queued {}" "$WORK/utf8.bin"
python3 -c 'import sys; p = sys.argv[1]; d = open(p, "rb").read()
assert d.count(b"sa!es") == 1
open(p, "wb").write(d.replace(b"sa!es", b"sa\xffes"))' "$WORK/utf8.bin"
# the queue "sales!x", its '!' a NUL byte
encode_event "$PROTO" "event_id: \"bad-2\" event_time_ms: $((T + 21000)) tenant: \"acme\"
  channel: CHANNEL_VOICE contact_id: \"c4\" queue: \"sales!x\" contact_queued {}" "$WORK/nul.bin"
python3 -c 'import sys; p = sys.argv[1]; d = open(p, "rb").read()
assert d.count(b"sales!x") == 1
open(p, "wb").write(d.replace(b"sales!x", b"sales\0x"))' "$WORK/nul.bin"
kcat -P -b "$BS" -t utf8.events -k acme "$WORK/ev_01.bin" "$WORK/ev_02.bin" # offsets 0, 1
kcat -P -b "$BS" -t utf8.events -k acme "$WORK/utf8.bin"                    # offset 2
kcat -P -b "$BS" -t utf8.events -k acme "$WORK/nul.bin"                     # offset 3
kcat -P -b "$BS" -t utf8.events -k acme "$WORK"/ev_0[3-6].bin               # offsets 4..7
write_config "$WORK/run4.yaml" dl-4 utf8.events utf8.operations "" "output: {format: json}
"
write_config "$WORK/clean4.yaml" dl-4c events.email utf8clean.operations "" "output: {format: json}
"
run "$WORK/run4.yaml" "$WORK/run4.log" 0
run "$WORK/clean4.yaml" "$WORK/clean4.log" 0
case "$(summary "$WORK/run4.log")" in
  "stopped: events 8, dispatched "*", rejected 2 (dead-lettered 2),"*) ;;
  *) e2e_fail "run 4 summary: want 8 events, 2 rejected and dead-lettered: $(summary "$WORK/run4.log")" ;;
esac
grep -q "callback\|cannot be written as JSON" "$WORK/run4.log" &&
  { cat "$WORK/run4.log" >&2; e2e_fail "run 4: a plugin's results could not be written"; }
want="kpistream.reason=queue not UTF-8 at byte 2 (0xff),kpistream.source.topic=utf8.events"
want+=",kpistream.source.partition=0,kpistream.source.offset=2"
want_nul="kpistream.reason=queue holds a NUL byte at byte 5,kpistream.source.topic=utf8.events"
want_nul+=",kpistream.source.partition=0,kpistream.source.offset=3"
got=$(dlq_lines | awk -F'\t' '$4 ~ /source.topic=utf8.events/ { print $4 }')
[ "$got" = "$want"$'\n'"$want_nul" ] ||
  e2e_fail "the events with a 0xff byte and a NUL byte: dead letter headers '$got', want '$want' and '$want_nul'"
dlq_value "$(dlq_lines | awk -F'\t' '$4 ~ /source.offset=3$/ && $4 ~ /utf8.events/ { print $1 }')" "$WORK/nul.dlq"
cmp "$WORK/nul.bin" "$WORK/nul.dlq" || e2e_fail "the event with a NUL byte was not dead-lettered unchanged"
for t in utf8 utf8clean; do
  kcat -C -b "$BS" -t $t.operations -o beginning -e -q -f '%k\t%s\n' | sort > "$WORK/$t.json"
done
[ -s "$WORK/utf8clean.json" ] || e2e_fail "the clean json run published no results"
diff -u "$WORK/utf8clean.json" "$WORK/utf8.json" ||
  e2e_fail "json results with the 0xff and NUL events (+) differ from without (-)"
echo "queue with a 0xff byte dead-lettered ($want); $(wc -l < "$WORK/utf8.json") json results, all published"
echo "queue \"sales\\0x\" dead-lettered unchanged ($want_nul), not counted as \"sales\""
