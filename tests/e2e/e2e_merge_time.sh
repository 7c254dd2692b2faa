#!/usr/bin/env bash
# Absurd and far-future event times in the middle of a two-topic stream, end
# to end: embedded broker; two tenants, each on its own partition (= task) of
# two input topics (contacts on mt.a, agents and surveys on mt.b), encoded
# with protoc --encode and produced with kcat; among them a year-3000 event
# (refused by the decoder) and a year-2099 event (accepted by the decoder,
# beyond intervals.max_future_skew) per tenant, each at a different place:
# first in its partition, and in the middle of one. `kpistream run
# --until-eof` with operations and every other plugin present. Checks: exit
# 0, the run summary (late 0, restated 0, rejected = exactly the 4 poison
# messages), each poison message on kpistream.dlq with its key, bytes and
# reason, and results identical to a run over the same valid events without
# them (no missing key, no restatement, nothing dead-lettered as late).
#
# usage: e2e_merge_time.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3
. "$SRC/tests/e2e/lib.sh"
PROTO=$SRC/proto
for tool in kcat protoc od; do command -v $tool >/dev/null || e2e_fail "$tool is not installed"; done

WORK=$(mktemp -d)
BROKER_PID=
cleanup() {
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

FAMILIES="operations experience workforce quality value forecast scorecard"

# 1. broker (stops by itself after 300 s even if this script is killed)
topics=(--topic mt.a --topic mt.b --topic clean.a --topic clean.b)
for f in $FAMILIES; do topics+=(--topic "clean.$f"); done
"$KPISTREAM" broker --partitions 2 "${topics[@]}" --bootstrap-file "$WORK/bootstrap" \
  --exit-after 300 > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
BS=$(cat "$WORK/bootstrap")
echo "broker at $BS"

# 2. messages, one file each; SEQ[tenant.topic] all in produce order, VALID[...] without poison
T=1795428000000 # 2026-11-23T10:00:00Z
Y3000=32503680000000 # 3000-01-01T00:00:00Z: outside the decoder's range
Y2099=4070908800000  # 2099-01-01T00:00:00Z: inside it, far beyond the skew bound
at() { echo $((T + $1 * 1000)); } # seconds after 10:00:00
mkdir -p "$WORK/msg"
n=0 V=0 P=0
declare -A SEQ VALID
: > "$WORK/expected_dlq.txt"
next_file() { n=$((n + 1)); f=$(printf '%s/msg/%03d.bin' "$WORK" $n); } # sets f

ev() { # ev TENANT TOPIC SECONDS CONTACT BODY [AGENT] — a valid event
  local f cust=
  next_file
  [ -n "$4" ] && cust="cust-$4"
  encode_event "$PROTO" "event_id: \"$1-e$n\" event_time_ms: $(at "$3") tenant: \"$1\"
    channel: CHANNEL_VOICE contact_id: \"$4\" customer_id: \"$cust\" queue: \"sales\"
    agent_id: \"${6:-}\" team: \"blue\" $5" "$f"
  SEQ[$1.$2]+="$f " VALID[$1.$2]+="$f "
  V=$((V + 1))
}

bad() { # bad TENANT TOPIC TIME REASON BODY — an event at TIME (ms) that must be refused with REASON
  local f
  next_file
  encode_event "$PROTO" "event_id: \"$1-p$n\" event_time_ms: $3 tenant: \"$1\"
    channel: CHANNEL_VOICE queue: \"sales\" $5" "$f"
  SEQ[$1.$2]+="$f "
  printf '%s %s %s\n' "$1" "$(hex "$f")" "$4" >> "$WORK/expected_dlq.txt"
  P=$((P + 1))
}

RANGE="outside 2000-01-01..2100-01-01"
# The skew refusal names the event time, the bound, the skew, the task's
# highest event time, the record time (kcat's produce time: normalised to R
# below) and the watermark.
ahead() { # ahead HIGHEST WATERMARK — the reason of the 2099 events
  echo "event_time_ms $Y2099 beyond bound B: intervals.max_future_skew 3600000 ms after max(highest event time $1, record time R); watermark $2"
}

# acme (partition 0): the year-3000 event first on mt.a, so everything after
# it on mt.a waits behind it in the merge; the 2099 event mid-mt.b
bad acme mt.a $Y3000 "event_time_ms $Y3000 $RANGE" 'contact_id: "c9" contact_queued {}'
ev acme mt.a 0 c1 'contact_queued {}'
ev acme mt.a 20 c1 'contact_answered {}' a1
ev acme mt.a 240 c1 'contact_ended { disconnected_by: PARTY_CUSTOMER }' a1
ev acme mt.a 300 c1 'acw_ended { reason_code: "billing" resolved: true }' a1
ev acme mt.a 720 c2 'contact_queued {}'
ev acme mt.a 750 c2 'contact_answered {}' a2
ev acme mt.a 1200 c2 'contact_ended { disconnected_by: PARTY_AGENT }' a2
ev acme mt.a 1260 c2 'acw_ended { reason_code: "sales" resolved: true }' a2
ev acme mt.a 1860 c3 'contact_queued {}'
ev acme mt.a 1920 c3 'contact_abandoned { stage: ABANDON_IN_QUEUE }'
ev acme mt.a 2400 c4 'contact_queued {}'
ev acme mt.a 2460 c4 'contact_answered {}' a1
ev acme mt.a 3120 c4 'contact_ended { disconnected_by: PARTY_CUSTOMER }' a1
ev acme mt.a 3180 c4 'acw_ended { reason_code: "billing" resolved: false }' a1
ev acme mt.b 0 '' 'agent_state { state: AGENT_AVAILABLE }' a1
ev acme mt.b 10 '' 'agent_state { state: AGENT_AVAILABLE }' a2
ev acme mt.b 900 c1 'survey { type: SURVEY_CSAT score: 4 scale_min: 1 scale_max: 5 survey_id: "s1" }' a1
# at the head of mt.b right after the 10:15:00 survey: highest event time
# 10:15:00, watermark 10:12:30 (mt.a's last event so far, c2 answered)
bad acme mt.b $Y2099 "$(ahead "$(at 900)" "$(at 750)")" 'agent_id: "a1" agent_state { state: AGENT_AVAILABLE }'
ev acme mt.b 1500 c2 'survey { type: SURVEY_CSAT score: 5 scale_min: 1 scale_max: 5 survey_id: "s2" }' a2
ev acme mt.b 2700 '' 'agent_state { state: AGENT_AUX }' a2
ev acme mt.b 3600 '' 'agent_state { state: AGENT_AVAILABLE }' a2
ev acme mt.b 4200 '' 'agent_state { state: AGENT_LOGGED_OUT }' a1

# globex (partition 1): the 2099 event first on mt.b, the year-3000 event mid-mt.a
ev globex mt.a 0 g1 'contact_queued {}'
ev globex mt.a 60 g1 'contact_answered {}' b1
ev globex mt.a 540 g1 'contact_ended { disconnected_by: PARTY_CUSTOMER }' b1
ev globex mt.a 600 g1 'acw_ended { reason_code: "billing" resolved: true }' b1
bad globex mt.a $Y3000 "event_time_ms $Y3000 $RANGE" 'contact_id: "g9" contact_queued {}'
ev globex mt.a 1200 g2 'contact_queued {}'
ev globex mt.a 1320 g2 'contact_answered {}' b1
ev globex mt.a 2100 g2 'contact_ended { disconnected_by: PARTY_AGENT }' b1
ev globex mt.a 2160 g2 'acw_ended { reason_code: "sales" resolved: true }' b1
ev globex mt.a 3000 g3 'contact_queued {}'
ev globex mt.a 3060 g3 'contact_abandoned { stage: ABANDON_IN_QUEUE }'
# first of its partition: processed before 10:00:00 (g1's contact_queued),
# when the task has seen nothing (highest event time and watermark: none)
bad globex mt.b $Y2099 "$(ahead none none)" 'agent_id: "b1" agent_state { state: AGENT_AVAILABLE }'
ev globex mt.b 30 '' 'agent_state { state: AGENT_AVAILABLE }' b1
ev globex mt.b 1800 g1 'survey { type: SURVEY_CSAT score: 2 scale_min: 1 scale_max: 3 survey_id: "s3" }' b1
ev globex mt.b 2400 '' 'agent_state { state: AGENT_AUX }' b1
ev globex mt.b 3900 '' 'agent_state { state: AGENT_AVAILABLE }' b1
echo "scenario: $V valid events, $P poison messages"

# 3. produce keyed by tenant, each tenant to its own partition
START_MS=$(($(date +%s) * 1000))
part() { case $1 in acme) echo 0 ;; *) echo 1 ;; esac; }
for tenant in acme globex; do
  for tp in a b; do
    # shellcheck disable=SC2086 # word splitting of the file lists is wanted
    kcat -P -b "$BS" -t mt.$tp -p "$(part $tenant)" -k $tenant ${SEQ[$tenant.mt.$tp]}
    # shellcheck disable=SC2086
    kcat -P -b "$BS" -t clean.$tp -p "$(part $tenant)" -k $tenant ${VALID[$tenant.mt.$tp]}
  done
done

# 4. both runs: operations and every other plugin of the plugin dir that loads
# shellcheck disable=SC2086 # one word per family
plugins=$(loadable_plugins "$KPISTREAM" "$PLUGIN_DIR" "$WORK" $FAMILIES)
echo "plugins: $plugins"
# shellcheck disable=SC2086 # one word per plugin
bounded_config "$WORK/poison.yaml" e2e-mt-poison "mt.a, mt.b" kpi "$PLUGIN_DIR" $plugins
# shellcheck disable=SC2086
bounded_config "$WORK/clean.yaml" e2e-mt-clean "clean.a, clean.b" clean "$PLUGIN_DIR" $plugins
s1=$(run_bounded "$KPISTREAM" "$WORK/bootstrap" "$WORK/poison.yaml" "$WORK/poison.log")
echo "with poison:    $s1"
s2=$(run_bounded "$KPISTREAM" "$WORK/bootstrap" "$WORK/clean.yaml" "$WORK/clean.log")
echo "without poison: $s2"
dispatched() { printf '%s\n' "$1" | sed -n 's/.*dispatched \([0-9]*\),.*/\1/p'; }
d2=$(dispatched "$s2")
case "$s2" in
  "stopped: events $V, dispatched $d2, rejected 0 (dead-lettered 0), late 0, restated 0,"*"plugin errors 0,"*) ;;
  *) e2e_fail "unexpected summary without poison (want events $V, rejected 0, late 0): $s2" ;;
esac
case "$s1" in
  "stopped: events $((V + P)), dispatched $d2, rejected $P (dead-lettered $P), late 0, restated 0,"*"plugin errors 0,"*) ;;
  *) e2e_fail "unexpected summary with poison (want events $((V + P)), dispatched $d2, rejected $P, late 0, restated 0): $s1" ;;
esac

# 5. exactly the poison messages are on the dead-letter topic, with their key, bytes and
# reason; the bound and the record time depend on when kcat produced: checked below
read_dead_letters "$BS" kpistream.dlq "mt.[ab]" "$WORK" "$WORK/dlq.raw.txt"
sed 's/beyond bound [0-9]*:/beyond bound B:/; s/record time [0-9]*)/record time R)/' \
  "$WORK/dlq.raw.txt" > "$WORK/dlq.txt"
sort "$WORK/expected_dlq.txt" > "$WORK/expected_dlq.sorted"
sort "$WORK/dlq.txt" > "$WORK/dlq.sorted"
if ! diff -u "$WORK/expected_dlq.sorted" "$WORK/dlq.sorted" | cut -c1-400; then :; fi
cmp -s "$WORK/expected_dlq.sorted" "$WORK/dlq.sorted" ||
  e2e_fail "kpistream.dlq does not hold exactly the poison messages with their reasons (diff above: tenant, bytes in hex, reason)"
# the record time is when kcat produced, the bound max(highest event time, record time) + 1 h
now_ms=$(($(date +%s) * 1000))
bounds=$(cat "$WORK"/dlq_h*.txt | grep -o 'beyond bound [0-9]*: [^;]*record time [0-9]*' || true)
[ "$(printf '%s\n' "$bounds" | grep -c 'record time')" -eq 2 ] || e2e_fail "not 2 skew refusals: $bounds"
while read -r line; do
  b=$(printf '%s\n' "$line" | sed 's/beyond bound \([0-9]*\):.*/\1/')
  h=$(printf '%s\n' "$line" | sed 's/.*highest event time \([0-9a-z]*\),.*/\1/')
  r=$(printf '%s\n' "$line" | sed 's/.*record time \([0-9]*\)$/\1/')
  base=$r
  if [ "$h" != none ] && [ "$h" -gt "$r" ]; then base=$h; fi
  [ "$b" -eq $((base + 3600000)) ] || e2e_fail "bound $b is not max($h, $r) + 1 h"
  if [ "$r" -gt "$now_ms" ] || [ "$r" -lt "$START_MS" ]; then e2e_fail "record time $r is not kcat's produce time"; fi
done <<< "$bounds"

# 6. the results with poison equal the results without it, plugin by plugin
# shellcheck disable=SC2086
same_results "$BS" "$PROTO" "$WORK" kpi clean $plugins
same=$(cat "$WORK"/res1_*.txt | wc -l)
# hand-checked: acme offered c1 (10:00) and c2 (10:12) in 10:00-10:15, globex g3 (10:50) in 10:45-11:00
grep -q '^operations/offered|acme|voice|sales|||1795428000000 2$' "$WORK/res1_operations.txt" ||
  e2e_fail "operations/offered for acme 10:00 is not 2"
grep -q '^operations/offered|globex|voice|sales|||1795430700000 1$' "$WORK/res1_operations.txt" ||
  e2e_fail "operations/offered for globex 10:45 is not 1"
echo "poison $P, dead-lettered $P, results identical $same"
