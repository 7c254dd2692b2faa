#!/usr/bin/env bash
# The partitioning contract checked per message (docs/partitioning.md), end to
# end against the embedded broker with 4 partitions per topic; kcat (i.e.
# librdkafka) decides every partition, never kpistream.
#
# A. input.partitioner unset (any): 16 tenants keyed by tenant are accepted;
#    an event without a key and one keyed 'globex' whose tenant is 'acme' go
#    to the dead-letter topic with their exact reasons and count as
#    misrouted (in the stats line of a live run and in the run summary); an
#    event on the wrong partition is accepted (nothing to check it against).
# B, C, D. input.partitioner crc32 / murmur2 / fnv1a, the input produced by
#    kcat with librdkafka's consistent_random (its default) / murmur2 /
#    fnv1a partitioner: the 16 tenants spread over the partitions and every
#    one is accepted (kpistream's partitioner agrees with librdkafka's for
#    each), and one acme event produced to another partition than acme's is
#    dead-lettered with the reason naming both partitions.
#
# usage: e2e_copartition.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3
read -r -a WRAP <<< "${KS_E2E_WRAPPER:-}"
. "$SRC/tests/e2e/lib.sh"
PROTO=$SRC/proto
for tool in kcat protoc; do command -v $tool >/dev/null || e2e_fail "$tool is not installed"; done

WORK=$(mktemp -d)
BROKER_PID= RUN_PID=
cleanup() {
  [ -n "$RUN_PID" ] && kill "$RUN_PID" 2>/dev/null && wait "$RUN_PID" 2>/dev/null
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

"$KPISTREAM" broker --partitions 4 --no-default-topics --topic a.voice --topic b.voice \
  --topic c.voice --topic d.voice --topic kpistream.dlq:1 --bootstrap-file "$WORK/bootstrap" \
  --exit-after 300 > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
BS=$(cat "$WORK/bootstrap")
echo "broker at $BS"

T=1795428000000 # 2026-11-23T10:00:00Z
n=0
ev() { # ev TENANT — a valid event of TENANT into a new file; prints its name
  n=$((n + 1))
  local f
  f=$(printf '%s/ev_%03d.bin' "$WORK" $n)
  encode_event "$PROTO" "event_id: \"e$n\" event_time_ms: $((T + n * 1000)) tenant: \"$1\"
    channel: CHANNEL_VOICE contact_id: \"c$n\" queue: \"sales\" contact_queued {}" "$f"
  echo "$f"
}
TENANTS=$(printf 't%02d ' $(seq 0 15))

write_config() { # write_config FILE GROUP TOPIC [PARTITIONER] [STATS]
  {
    printf 'kafka:\n  consumer:\n    group.id: %s\n    session.timeout.ms: 6000\n' "$2"
    printf '    fetch.wait.max.ms: 50\n'
    printf 'input:\n  topics: [%s]\n  dead_letter_topic: kpistream.dlq\n' "$3"
    [ -z "${4:-}" ] || printf '  partitioner: %s\n' "$4"
    printf 'intervals: {length: 15m, allowed_lateness: 1h, idle_timeout: 0s}\nplugin_dir: %s\n' "$PLUGIN_DIR"
    printf 'plugins:\n  - {name: operations, topic: kpi.%s}\nstats_interval: %s\n' "$2" "${5:-0s}"
  } > "$1"
}
run() { # run CONFIG LOG — a bounded run that must exit 0; prints its summary
  local rc=0
  timeout 240 "${WRAP[@]}" "$KPISTREAM" run -c "$1" --bootstrap-file "$WORK/bootstrap" \
    --until-eof > "$2" 2>&1 || rc=$?
  [ $rc -eq 0 ] || { cat "$2" >&2; e2e_fail "kpistream run -c $(basename "$1") exited $rc"; }
  grep -o 'stopped: .*' "$2" || { cat "$2" >&2; e2e_fail "no run summary in $2"; }
}
dlq_reasons() { # dlq_reasons TOPIC — "partition reason" of each dead letter from TOPIC
  kcat -C -b "$BS" -t kpistream.dlq -o beginning -e -q -f '%h\n' |
    sed -n "s/.*kpistream\.reason=\(.*\),kpistream\.source\.topic=$1,kpistream\.source\.partition=\([0-9]*\),kpistream\.source\.offset=[0-9]*$/\2 \1/p" |
    sort
}
partition_of() { # partition_of TOPIC KEY — where librdkafka put KEY's messages (one partition)
  kcat -C -b "$BS" -t "$1" -o beginning -e -q -f '%k %p\n' | awk -v k="$2" '$1 == k { print $2 }' | sort -u
}

# -- A. partitioner any: the key must be the tenant
for t in $TENANTS; do kcat -P -b "$BS" -t a.voice -k "$t" "$(ev "$t")"; done
kcat -P -b "$BS" -t a.voice -p 0 "$(ev acme)"                 # no key
kcat -P -b "$BS" -t a.voice -p 1 -k globex "$(ev acme)"       # key is not the tenant
kcat -P -b "$BS" -t a.voice -k acme "$(ev acme)"
p=$(partition_of a.voice acme)
kcat -P -b "$BS" -t a.voice -p $(((p + 1) % 4)) -k acme "$(ev acme)" # wrong partition: not checked
write_config "$WORK/a.yaml" cp-a a.voice "" 200ms
# a live run: the stats line counts them, then SIGTERM
"${WRAP[@]}" "$KPISTREAM" run -c "$WORK/a.yaml" --bootstrap-file "$WORK/bootstrap" > "$WORK/a.log" 2>&1 &
RUN_PID=$!
deadline=$((SECONDS + 120))
until grep -q "runner: events 20 .*, misrouted 2, dead-lettered 2 (truncated 0)" "$WORK/a.log"; do
  kill -0 $RUN_PID 2>/dev/null || { cat "$WORK/a.log" >&2; e2e_fail "run A stopped early"; }
  [ $SECONDS -lt $deadline ] || { cat "$WORK/a.log" >&2; e2e_fail "run A: no stats line with 20 events, 2 misrouted"; }
  sleep 0.2
done
kill -TERM $RUN_PID
rc=0
wait $RUN_PID || rc=$?
RUN_PID=
[ $rc -eq 0 ] || { cat "$WORK/a.log" >&2; e2e_fail "run A exited $rc after SIGTERM"; }
sa=$(grep -o 'stopped: .*' "$WORK/a.log")
echo "A (any):     $sa"
case "$sa" in
  "stopped: events 20, dispatched 18, rejected 0 (dead-lettered 2), late 0,"*", misrouted 2, dead letters truncated 0") ;;
  *) e2e_fail "run A summary: want 20 events, 18 dispatched, 2 misrouted and dead-lettered: $sa" ;;
esac
printf '%s\n' "0 no message key (events are keyed by tenant: 'acme')" \
  "1 message key 'globex' is not the tenant 'acme'" > "$WORK/want_a"
dlq_reasons a.voice > "$WORK/got_a"
diff -u "$WORK/want_a" "$WORK/got_a" || e2e_fail "run A: dead letters (+) differ from the expected (-)"

# -- B, C, D: the partition is the one the producers' partitioner picks
check() { # check TOPIC PARTITIONER KCAT_PARTITIONER
  local topic=$1 name=$2 kp=$3 t p wrong s parts
  for t in $TENANTS acme; do kcat -P -b "$BS" -t "$topic" -X partitioner="$kp" -k "$t" "$(ev "$t")"; done
  parts=$(kcat -C -b "$BS" -t "$topic" -o beginning -e -q -f '%p\n' | sort -u | wc -l)
  [ "$parts" -ge 3 ] || e2e_fail "$topic: 17 tenants on only $parts partitions (a weak check)"
  p=$(partition_of "$topic" acme)
  wrong=$(((p + 1) % 4))
  kcat -P -b "$BS" -t "$topic" -p $wrong -k acme "$(ev acme)"
  write_config "$WORK/$name.yaml" "cp-$name" "$topic" "$name"
  s=$(run "$WORK/$name.yaml" "$WORK/$name.log")
  printf '%-12s %s\n' "$name:" "$s"
  case "$s" in
    "stopped: events 18, dispatched 17, rejected 0 (dead-lettered 1), late 0,"*", misrouted 1, dead letters truncated 0") ;;
    *) e2e_fail "$name: want 18 events, 17 dispatched, 1 misrouted: $s" ;;
  esac
  dlq_reasons "$topic" > "$WORK/got_$name"
  echo "$wrong on partition $wrong, but the $name partitioner puts key 'acme' on partition $p of 4" > "$WORK/want_$name"
  diff -u "$WORK/want_$name" "$WORK/got_$name" || e2e_fail "$name: dead letters (+) differ from the expected (-)"
}
check b.voice crc32 consistent_random
check c.voice murmur2 murmur2_random
check d.voice fnv1a fnv1a_random
# and the check can fail: c.voice, placed by murmur2, read as if by crc32
write_config "$WORK/x.yaml" cp-x c.voice crc32
sx=$(run "$WORK/x.yaml" "$WORK/x.log")
m=$(printf '%s\n' "$sx" | sed -n 's/.*, misrouted \([0-9]*\),.*/\1/p')
[ -n "$m" ] && [ "$m" -ge 5 ] || e2e_fail "murmur2-placed input read as crc32: only ${m:-?} of 18 misrouted"
echo "murmur2-placed input read as crc32: $m of 18 misrouted"
echo "co-partitioning: keyless and wrong-key events dead-lettered; crc32, murmur2 and fnv1a agree with librdkafka on 17 keys each"
