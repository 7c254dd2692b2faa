#!/usr/bin/env bash
# Broker faults end to end: the same deterministic input computed twice on a
# 3-broker embedded cluster, once undisturbed (kpi.ref) and once while the
# script injects faults through `kpistream broker --control` (kpi.faults):
# request errors on Produce and Fetch, a leader change of an input partition,
# a broker down and back up, a slow broker. Both outputs are read with
# `kpistream dump`; the latest revision of every key must be identical
# (value, numerator, denominator, count), and no key may carry two different
# results under one revision.
# usage: e2e_broker_faults.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3
. "$SRC/tests/e2e/lib.sh"
command -v kcat >/dev/null || e2e_fail "kcat is not installed"
WORK=$(mktemp -d)
BROKER_PID= RUN_PID=
cleanup() {
  [ -n "$RUN_PID" ] && kill "$RUN_PID" 2>/dev/null && wait "$RUN_PID" 2>/dev/null
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  if [ -n "${KS_E2E_KEEP:-}" ]; then echo "logs and dumps kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
T0=$SECONDS
INPUTS="events.voice events.email events.chat events.agent events.feedback events.business"

# 1. Broker: 3 brokers (replication 3), 4 partitions per topic, a control FIFO.
# --exit-after keeps it from outliving a killed test.
"$KPISTREAM" broker --brokers 3 --partitions 4 --topic kpi.ref:4 --topic kpi.faults:4 \
  --bootstrap-file "$WORK/bootstrap" --control "$WORK/ctl" --control-ack "$WORK/ack" \
  --exit-after 280 > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30 # written after the FIFO exists
BS=$(cat "$WORK/bootstrap")

# A fixed leader layout (the mock picks leaders at random): partition p of
# every topic on broker p % 3 + 1, so broker 1 leads partitions 0 and 3,
# broker 2 partition 1, broker 3 partition 2. The group coordinator of
# kpistream-faults is broker 3 (the mock takes crc32(group id) % 3 = 2: the
# third broker).
layout=()
for t in $INPUTS kpi.ref kpi.faults kpistream.dlq; do
  for p in 0 1 2 3; do layout+=("leader $t $p $((p % 3 + 1))"); done
done
ctl_sync "${layout[@]}"
md=$(kcat -L -b "$BS" -t events.voice)
case "$md" in *"partition 1, leader 2,"*) ;; *) e2e_fail "leader layout not applied: $md" ;; esac

# 2. Input: 3 simulated hours of 8 tenants at 0.3 x the default rates (~30 k
# events), the same bytes on every run. Keyed by tenant, they land in all 4
# partitions (5 tenants in partition 2). One message per producer batch: the mock returns one batch per partition per
# fetch, so the fault run below needs thousands of fetch round trips and runs
# for several seconds — long enough to inject every fault while it consumes.
"$KPISTREAM" simulate --bootstrap-file "$WORK/bootstrap" --seed 7 --speed max --duration 3h \
  --tenants 8 --rate-scale 0.3 \
  -X batch.num.messages=1 -X linger.ms=0 > "$WORK/sim.out" 2> "$WORK/sim.log" ||
  { cat "$WORK/sim.log"; e2e_fail "simulate failed"; }
EVENTS=$(awk '$1 == "total" { print $2 }' "$WORK/sim.out")
[ "${EVENTS:-0}" -gt 20000 ] || { cat "$WORK/sim.out"; e2e_fail "simulator produced ${EVENTS:-no} events"; }

config() { # config GROUP TOPIC EXTRA_CONSUMER_PROPERTIES
  cat <<YAML
kafka:
  consumer: {group.id: $1, session.timeout.ms: 6000, fetch.wait.max.ms: 50$3}
input:
  topics: [${INPUTS// /, }]
  dead_letter_topic: kpistream.dlq
intervals: {length: 15m, allowed_lateness: 30s}
plugin_dir: $PLUGIN_DIR
plugins:
  - name: operations
    topic: $2
stats_interval: 250ms
YAML
}
summary_ok() { # summary_ok LOG — the run read everything, rejected and dropped nothing
  grep -q "runner: stopped: events $EVENTS, .*rejected 0 (dead-lettered 0), late 0,.*plugin errors 0" "$1"
}

# 3. Reference run, undisturbed.
config kpistream-ref kpi.ref "" > "$WORK/ref.yaml"
timeout 120 "$KPISTREAM" run -c "$WORK/ref.yaml" --bootstrap-file "$WORK/bootstrap" --until-eof \
  > "$WORK/ref.log" 2>&1 || { tail -20 "$WORK/ref.log"; e2e_fail "reference run failed"; }
summary_ok "$WORK/ref.log" || { tail -5 "$WORK/ref.log"; e2e_fail "reference run summary"; }

# 4. Fault run. Pacing, not under test: smaller fetches (one batch per
# partition per request) and every broker answering after 5 ms stretch it
# (about 1.5 k events/s here), so each fault lands while it consumes; the
# faults are over after about a third of the input, and the pacing with them.
config kpistream-faults kpi.faults \
  ", max.partition.fetch.bytes: 1, fetch.max.bytes: 1000, message.max.bytes: 1000" \
  > "$WORK/faults.yaml"
ctl_sync "rtt 1 5" "rtt 2 5" "rtt 3 5"
timeout 180 "$KPISTREAM" run -c "$WORK/faults.yaml" --bootstrap-file "$WORK/bootstrap" \
  --until-eof > "$WORK/faults.log" 2>&1 &
RUN_PID=$!

events_done() { # the run's latest stats line, 0 before the first
  local n
  n=$(grep -o 'runner: events [0-9]*' "$WORK/faults.log" | tail -1 | awk '{ print $3 }')
  echo "${n:-0}"
}
running() { kill -0 "$RUN_PID" 2>/dev/null && ! grep -q "runner: stopping:" "$WORK/faults.log"; }
at_least() { # at_least PERCENT — the run has consumed PERCENT % of the input (fails if it ended)
  running || { tail -20 "$WORK/faults.log"; e2e_fail "the run ended before fault '$FAULT'"; }
  [ "$(events_done)" -ge $((EVENTS * $1 / 100)) ]
}
fault() { # fault PERCENT NAME — wait until then, report
  FAULT=$2
  wait_until 60 "the run to reach $1 % of the input" at_least "$1"
  echo "$(printf '%5.1f' "$((SECONDS - T0))") s, $(events_done) events in: $FAULT"
}

wait_until 30 "the run to join its group" grep -q "runner: assigned" "$WORK/faults.log"
fault 3 "request errors on Produce and Fetch"
ctl_sync "errors Produce 3 NOT_LEADER_FOR_PARTITION" "errors Produce 2 REQUEST_TIMED_OUT" \
  "errors Fetch 3 NOT_LEADER_FOR_PARTITION" "errors Fetch 2 REQUEST_TIMED_OUT"
fault 10 "leader of events.voice [2]: broker 3 -> 1"
ctl_sync "leader events.voice 2 1"
fault 20 "broker 3 down (partition 2 of every other topic, the group coordinator)"
ctl_sync "down 3"
# Down for 2 s, a bounded wait: the effect (fetches, produce requests,
# heartbeats and commits to broker 3 failing, reconnects backing off) cannot
# be observed from here, and it must stay under session.timeout.ms (6 s) or
# the group rebalances (a different test).
sleep 2
ctl_sync "up 3"
fault 30 "broker 1 slow: 300 ms per response (partitions 0, 3 and events.voice [2])"
ctl_sync "rtt 1 300"
sleep 2 # bounded, as above: two seconds of every request to broker 1 taking 300 ms
ctl_sync "rtt 1 0" "rtt 2 0" "rtt 3 0" # the slow broker recovers, and the pacing ends
running || e2e_fail "the run ended while the last fault was being injected"
echo "$(printf '%5.1f' "$((SECONDS - T0))") s, $(events_done) events in: faults over"

wait "$RUN_PID" || { rc=$?; RUN_PID=; tail -20 "$WORK/faults.log"; e2e_fail "fault run exited $rc"; }
RUN_PID=
summary_ok "$WORK/faults.log" || { tail -5 "$WORK/faults.log"; e2e_fail "fault run summary"; }

# 5. Compare the outputs: per key, the latest revision (fields: key, value,
# numerator, denominator, count). Every metric is compared exactly, FCR
# included: it judges a customer's contacts across channels (topics) in the
# order a task processes them, so it is the first to differ when a task's
# topics are not merged in event-time order (faults make one topic run ahead).
"$KPISTREAM" dump --bootstrap-file "$WORK/bootstrap" kpi.ref > "$WORK/ref.dump" ||
  e2e_fail "dump of kpi.ref failed"
"$KPISTREAM" dump --bootstrap-file "$WORK/bootstrap" kpi.faults > "$WORK/faults.dump" ||
  e2e_fail "dump of kpi.faults failed"
check_no_conflicts "$WORK/ref.dump"
check_no_conflicts "$WORK/faults.dump"
for run in ref faults; do
  latest_by_key "$WORK/$run.dump" | cut -f1,3- > "$WORK/$run.latest"
  cut -f1 "$WORK/$run.latest" > "$WORK/$run.keys"
done
missing=$(LC_ALL=C comm -23 "$WORK/ref.keys" "$WORK/faults.keys" | wc -l)
extra=$(LC_ALL=C comm -13 "$WORK/ref.keys" "$WORK/faults.keys" | wc -l)
differ=$(LC_ALL=C comm -23 "$WORK/ref.latest" "$WORK/faults.latest" | cut -f1 |
  LC_ALL=C comm -12 - "$WORK/faults.keys" | wc -l)
out=$(wc -l < "$WORK/faults.dump")
dups=$((out - $(wc -l < "$WORK/faults.keys")))
echo "events in $EVENTS, results out $out (reference $(wc -l < "$WORK/ref.dump")), missing $missing," \
  "extra $extra, different $differ, duplicates $dups, conflicts 0"
if [ "$missing" -ne 0 ] || [ "$extra" -ne 0 ] || [ "$differ" -ne 0 ] || [ "$dups" -ne 0 ]; then
  { # what a failure needs to be understood: the differences, where duplicates sit, the logs
    diff "$WORK/ref.latest" "$WORK/faults.latest" | head -20
    if [ "$dups" -ne 0 ]; then
      echo "results written more than once (topic, partition, offset of each copy):"
      "$KPISTREAM" dump --bootstrap-file "$WORK/bootstrap" --offsets kpi.faults 2> /dev/null |
        awk -F'\t' '{ k = $1 FS $2; n[k]++; at[k] = at[k] " " $7 "[" $8 "]@" $9 }
          END { for (k in n) if (n[k] > 1 && ++shown <= 10) print k ":" at[k] }'
    fi
    echo "--- fault run log (stats lines left out)"
    grep -v "runner: events" "$WORK/faults.log" | tail -40
    echo "--- broker log"
    grep -v "control: leader" "$WORK/broker.log" | tail -20
  } >&2
  e2e_fail "results under broker faults differ from the reference (details above)"
fi
# 6. The broker stops cleanly (in the sanitizer build: no leak, no error report)
# and removes the FIFO it created.
kill -TERM "$BROKER_PID"
rc=0
wait "$BROKER_PID" || rc=$?
BROKER_PID=
[ $rc -eq 0 ] || { tail -20 "$WORK/broker.log"; e2e_fail "the broker exited $rc"; }
[ ! -e "$WORK/ctl" ] || e2e_fail "the broker left its control FIFO behind"
echo "results under broker faults match the reference; $((SECONDS - T0)) s"
