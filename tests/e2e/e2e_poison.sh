#!/usr/bin/env bash
# Poison messages end to end: embedded broker; a small valid scenario (two
# tenants, every body family) encoded with protoc --encode and produced with
# kcat keyed by tenant, interleaved with poison of every class the decoder
# refuses (garbage, a truncated event, an unknown body field, a missing body
# or tenant, absurd event times, undeclared enum values, out-of-range
# numbers, identifiers longer than KS_ID_MAX); `kpistream run --until-eof` with operations and every other
# plugin present in the plugin dir. Checks: exit 0, the run summary, each
# poison message on kpistream.dlq with its key and bytes unchanged and the
# exact kpistream.reason header (docs/schema.md, "Validation"), and results
# identical to a second run (other group, other input and output topics) over
# the same valid events without the poison.
#
# usage: e2e_poison.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3
# KS_E2E_WRAPPER (e.g. "valgrind --error-exitcode=99 ...") wraps the runs of
# `kpistream run` (run_bounded, lib.sh); empty by default.
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

# 1. broker (stops by itself after 300 s even if this script is killed);
# poison.events holds valid + poison, clean.events the valid events alone
topics=(--topic poison.events --topic clean.events)
for f in $FAMILIES; do topics+=(--topic "clean.$f"); done
"$KPISTREAM" broker --partitions 2 "${topics[@]}" --bootstrap-file "$WORK/bootstrap" \
  --exit-after 300 > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
BS=$(cat "$WORK/bootstrap")
echo "broker at $BS"

# 2. messages, one file each, in produce order per tenant
T=1795428000000 # 2026-11-23T10:00:00Z
at() { echo $((T + $1 * 1000)); } # seconds after 10:00:00
mkdir -p "$WORK/msg"
n=0
declare -A SEQ VALID # tenant -> space-separated files (all / valid only)
V=0 P=0
: > "$WORK/expected_dlq.txt"
next_file() { n=$((n + 1)); f=$(printf '%s/msg/%03d.bin' "$WORK" $n); } # sets f

ev() { # ev TENANT SECONDS CONTACT BODY [AGENT] — a valid event
  local f cust=
  next_file
  [ -n "$3" ] && cust="cust-$3"
  encode_event "$PROTO" "event_id: \"$1-e$n\" event_time_ms: $(at "$2") tenant: \"$1\"
    channel: CHANNEL_VOICE contact_id: \"$3\" customer_id: \"$cust\" queue: \"sales\"
    agent_id: \"${5:-}\" team: \"blue\" $4" "$f"
  SEQ[$1]+="$f " VALID[$1]+="$f "
  V=$((V + 1))
}

poison() { # poison TENANT FILE REASON — FILE is produced keyed by TENANT, refused with REASON
  SEQ[$1]+="$2 "
  printf '%s %s %s\n' "$1" "$(hex "$2")" "$3" >> "$WORK/expected_dlq.txt"
  P=$((P + 1))
}

bad() { # bad TENANT REASON TEXT — a text-format Event that encodes but must be refused
  local f
  next_file
  encode_event "$PROTO" "event_id: \"$1-p$n\" $3" "$f"
  poison "$1" "$f" "$2"
}

RANGE="outside 2000-01-01..2100-01-01"
ENV="tenant: \"acme\" channel: CHANNEL_VOICE queue: \"sales\""
AT() { echo "event_time_ms: $(at "$1")"; }

# -- the decode classes
next_file
printf 'this is not a protobuf event' > "$f"
poison acme "$f" "protobuf decode failed (not a kpistream.v1.Event)"
ev acme 0 c1 'contact_queued {}'
ev acme 5 c1 'contact_offered { ring_ms: 4000 accepted: true }' a1
next_file # a valid event cut by 3 bytes (inside its body)
encode_event "$PROTO" "event_id: \"acme-cut\" $(AT 8) $ENV contact_id: \"c1\" agent_id: \"a1\"
  acw_ended { reason_code: \"billing\" resolved: true }" "$WORK/whole.bin"
head -c $(($(stat -c %s "$WORK/whole.bin") - 3)) "$WORK/whole.bin" > "$f"
poison acme "$f" "protobuf decode failed (not a kpistream.v1.Event)"
ev acme 10 c1 'contact_answered {}' a1
# a body case from a newer schema: field 57, encoded from an ad-hoc schema
cat > "$WORK/future.proto" <<'PROTO3'
syntax = "proto3";
package future.v2;
message Event {
  string event_id = 1;
  int64 event_time_ms = 2;
  string tenant = 3;
  int32 channel = 4;
  string contact_id = 5;
  string queue = 7;
  Callback callback_scheduled = 57;
}
message Callback { int64 due_ms = 1; }
PROTO3
next_file
printf 'event_id: "acme-future" event_time_ms: %s tenant: "acme" channel: 1 contact_id: "c1"
  queue: "sales" callback_scheduled { due_ms: %s }\n' "$(at 12)" "$(at 900)" |
  protoc --encode=future.v2.Event -I "$WORK" "$WORK/future.proto" > "$f"
poison acme "$f" "unknown body field 57 (newer schema?)"
bad acme "missing body" "$(AT 14) $ENV contact_id: \"c1\""
ev acme 60 c1 'hold_started {}' a1
bad acme "missing tenant" "$(AT 61) channel: CHANNEL_VOICE queue: \"sales\" contact_id: \"c1\" contact_queued {}"
bad acme "event_time_ms 0 $RANGE" "$ENV contact_id: \"c9\" contact_queued {}"
bad acme "event_time_ms 7258118400000 $RANGE" \
  "event_time_ms: 7258118400000 $ENV contact_id: \"c9\" contact_queued {}"
ev acme 90 c1 'hold_ended {}' a1
bad acme "channel 7 not a known Channel" \
  "$(AT 95) tenant: \"acme\" channel: 7 queue: \"sales\" contact_id: \"c2\" contact_queued {}"
# identifiers longer than KS_ID_MAX (47 bytes): a contact id far beyond the
# whole state key, and a queue one byte over
IDMAX="longer than 47 bytes (KS_ID_MAX, what plugin state keys hold)"
bad acme "contact_id $IDMAX" \
  "$(AT 96) $ENV contact_id: \"$(printf 'c%.0s' {1..200})\" contact_queued {}"
bad acme "queue $IDMAX" "$(AT 97) tenant: \"acme\" channel: CHANNEL_VOICE
  queue: \"$(printf 'q%.0s' {1..48})\" contact_id: \"c2\" contact_queued {}"
ev acme 120 c2 'contact_queued {}'
ev acme 150 c2 'contact_answered {}' a2
bad acme "contact_abandoned.stage 9 not a known AbandonStage" \
  "$(AT 160) $ENV contact_id: \"c2\" contact_abandoned { stage: 9 }"
bad acme "contact_offered.ring_ms -5000 negative" \
  "$(AT 170) $ENV contact_id: \"c2\" agent_id: \"a2\" contact_offered { ring_ms: -5000 }"
ev acme 190 c1 'contact_ended { disconnected_by: PARTY_CUSTOMER }' a1
ev acme 250 c1 'acw_ended { reason_code: "billing" resolved: true }' a1

# -- out-of-range values, each next to its valid counterpart
ev acme 260 c1 'survey { type: SURVEY_CSAT score: 5 scale_min: 1 scale_max: 5 survey_id: "s1" }' a1
bad acme "survey.score 7 outside scale 1-5" "$(AT 261) $ENV contact_id: \"c1\" agent_id: \"a1\"
  survey { type: SURVEY_CSAT score: 7 scale_min: 1 scale_max: 5 survey_id: \"s1x\" }"
ev acme 265 c1 'survey { type: SURVEY_NPS score: 10 scale_min: 0 scale_max: 10 survey_id: "s2" }' a1
bad acme "survey.scale 1-10 not supported for NPS (0-10)" "$(AT 266) $ENV contact_id: \"c1\"
  survey { type: SURVEY_NPS score: 3 scale_min: 1 scale_max: 10 survey_id: \"s2x\" }"
ev acme 270 c1 'sentiment { overall: 0.5 has_start_end: true start: -0.2 end: 0.8 magnitude: 1.2 }' a1
bad acme "sentiment.overall 1.5 outside -1..1" "$(AT 271) $ENV contact_id: \"c1\" agent_id: \"a1\"
  sentiment { overall: 1.5 }"
QA_OK='sections { name: "greeting" category: "communication" weight: 1
    items { id: "i1" points: 4 possible: 5 } items { id: "i2" points: 5 possible: 5 } }
  sections { name: "compliance" category: "process_compliance" weight: 2
    items { id: "i3" points: 5 possible: 5 compliance: true critical: true } }'
ev acme 300 c1 "qa_evaluation { evaluation_id: \"qa1\" form_id: \"f1\" evaluator_id: \"e1\" $QA_OK }" a1
bad acme "qa_evaluation.sections[0].items[1].points 6 above possible 5" \
  "$(AT 301) $ENV contact_id: \"c1\" agent_id: \"a1\" qa_evaluation { evaluation_id: \"qa2\"
  sections { weight: 1 items { id: \"i1\" points: 4 possible: 5 } items { id: \"i2\" points: 6 possible: 5 } } }"
bad acme "qa_evaluation.sections[1].weight -2 negative" \
  "$(AT 302) $ENV contact_id: \"c1\" agent_id: \"a1\" qa_evaluation { evaluation_id: \"qa3\"
  sections { weight: 1 items { id: \"i1\" points: 4 possible: 5 } } sections { weight: -2 } }"
ev acme 330 c3 'contact_queued {}'
ev acme 345 c3 'contact_abandoned { stage: ABANDON_IN_QUEUE }'
ev acme 390 c2 'contact_ended { disconnected_by: PARTY_AGENT }' a2
ev acme 420 c2 'acw_ended { reason_code: "sales" resolved: true }' a2
ev acme 430 c2 'survey { type: SURVEY_CES score: 6 scale_min: 1 scale_max: 7 survey_id: "s3" }' a2
ev acme 440 c2 'order { order_id: "o1" amount: 120.5 currency: "EUR" margin: 0.3 segment: "consumer" }' a2
bad acme "order.amount -10 negative" \
  "$(AT 441) $ENV contact_id: \"c2\" order { order_id: \"o2\" amount: -10 currency: \"EUR\" }"
bad acme "order.margin 35 above 1 (a share 0..1, not a percentage)" \
  "$(AT 442) $ENV contact_id: \"c2\" order { order_id: \"o3\" amount: 80 currency: \"EUR\" margin: 35 }"
ev acme 450 '' 'agent_state { state: AGENT_AVAILABLE }' a1
bad acme "agent_state.state 42 not a known AgentState" \
  "$(AT 451) $ENV agent_id: \"a1\" agent_state { state: 42 }"
ev acme 460 '' "schedule { start_ms: $(at 0) end_ms: $(at 1800) activity: ACTIVITY_ON_QUEUE paid: true schedule_id: \"w48\" revision: 1 }" a1
bad acme "schedule.end_ms $(at 0) before start_ms $(at 1800)" "$(AT 461) $ENV agent_id: \"a1\"
  schedule { start_ms: $(at 1800) end_ms: $(at 0) activity: ACTIVITY_BREAK schedule_id: \"w48\" revision: 2 }"
ev acme 470 '' "forecast { interval_start_ms: $(at 0) interval_length_s: 900 offered: 4.5 aht_s: 300 forecast_id: \"fc1\" required_agents: 3 }"
bad acme "forecast.offered -4 negative" "$(AT 471) $ENV
  forecast { interval_start_ms: $(at 900) interval_length_s: 900 offered: -4 aht_s: 300 forecast_id: \"fc1\" }"
ev acme 480 '' 'hr { type: HR_HEADCOUNT headcount: 12 }'
bad acme "hr.headcount -1 negative" "$(AT 481) $ENV team: \"blue\" hr { type: HR_HEADCOUNT headcount: -1 }"
ev acme 490 '' "cost { cost_center: \"cc1\" kind: COST_VARIABLE category: \"telephony\" amount: 42.1 currency: \"EUR\" period_start_ms: $(at 0) period_end_ms: $(at 900) }"
bad acme "cost.amount inf not finite" "$(AT 491) $ENV
  cost { cost_center: \"cc1\" kind: COST_VARIABLE category: \"telephony\" amount: inf currency: \"EUR\" }"
ev acme 495 '' "budget { cost_center: \"cc1\" amount: 1000 currency: \"EUR\" period_start_ms: $(at 0) period_end_ms: $(at 86400) }"
bad acme "budget.amount -500 negative" "$(AT 496) $ENV
  budget { cost_center: \"cc1\" amount: -500 currency: \"EUR\" period_start_ms: $(at 0) period_end_ms: $(at 86400) }"
ev acme 500 '' 'customer_base { active_customers: 1000 segment: "consumer" }'
bad acme "customer_base.active_customers -1 negative" "$(AT 501) $ENV
  customer_base { active_customers: -1 segment: \"consumer\" }"
ev acme 510 c2 'complaint { category: "billing_error" severity: "high" }' a2
ev acme 520 c2 'nba_offer { offer_id: "n1" action: "upgrade" }' a2
ev acme 530 c2 'nba_reaction { offer_id: "n1" reaction: REACTION_ACCEPTED }' a2
ev acme 540 '' 'customer_registered { segment: "consumer" }'
ev acme 600 c5 'contact_queued {}'
ev acme 605 c5 'contact_answered {}' a1
ev acme 725 c5 'contact_ended { disconnected_by: PARTY_CUSTOMER }' a1
ev acme 755 c5 'acw_ended { reason_code: "billing" resolved: true }' a1
ev acme 1000 c6 'contact_queued {}'
ev acme 1030 c6 'contact_answered {}' a2
ev acme 1200 c6 'contact_ended { disconnected_by: PARTY_AGENT }' a2
ev acme 1230 c6 'acw_ended { reason_code: "sales" resolved: false }' a2

# second tenant, after the first in time (both may share a partition)
ev globex 1300 g1 'contact_queued {}'
next_file
printf '\377\377\377\001\002' > "$f"
poison globex "$f" "protobuf decode failed (not a kpistream.v1.Event)"
ev globex 1312 g1 'contact_answered {}' b1
bad globex "survey.scale 0-7 not supported for CES (1-5 or 1-7)" "$(AT 1313) tenant: \"globex\"
  channel: CHANNEL_VOICE contact_id: \"g1\" survey { type: SURVEY_CES score: 5 scale_min: 0 scale_max: 7 }"
ev globex 1600 g1 'contact_ended { disconnected_by: PARTY_CUSTOMER }' b1
ev globex 1620 g1 'acw_ended { reason_code: "billing" resolved: true }' b1
ev globex 1630 g1 'survey { type: SURVEY_CSAT score: 2 scale_min: 1 scale_max: 3 }' b1
ev globex 1700 g2 'contact_queued {}'
ev globex 1800 g2 'contact_abandoned { stage: ABANDON_IN_QUEUE }'
echo "scenario: $V valid events, $P poison messages"

# 3. produce, keyed by tenant: valid + poison interleaved; the valid ones alone elsewhere
for tenant in acme globex; do
  # shellcheck disable=SC2086 # word splitting of the file lists is wanted
  kcat -P -b "$BS" -t poison.events -k $tenant ${SEQ[$tenant]}
  # shellcheck disable=SC2086
  kcat -P -b "$BS" -t clean.events -k $tenant ${VALID[$tenant]}
done

# 4. both runs: operations and every other plugin of the plugin dir that loads
# shellcheck disable=SC2086 # one word per family
plugins=$(loadable_plugins "$KPISTREAM" "$PLUGIN_DIR" "$WORK" $FAMILIES)
echo "plugins: $plugins"
# shellcheck disable=SC2086 # one word per plugin
bounded_config "$WORK/poison.yaml" e2e-poison poison.events kpi "$PLUGIN_DIR" $plugins
# shellcheck disable=SC2086
bounded_config "$WORK/clean.yaml" e2e-clean clean.events clean "$PLUGIN_DIR" $plugins
s1=$(run_bounded "$KPISTREAM" "$WORK/bootstrap" "$WORK/poison.yaml" "$WORK/poison.log")
echo "with poison:    $s1"
s2=$(run_bounded "$KPISTREAM" "$WORK/bootstrap" "$WORK/clean.yaml" "$WORK/clean.log")
echo "without poison: $s2"
dispatched() { printf '%s\n' "$1" | sed -n 's/.*dispatched \([0-9]*\),.*/\1/p'; }
d1=$(dispatched "$s1") d2=$(dispatched "$s2")
if [ -z "$d1" ] || [ "$d1" != "$d2" ]; then e2e_fail "dispatched $d1 with poison, $d2 without"; fi
case "$s1" in
  "stopped: events $((V + P)), dispatched $d1, rejected $P (dead-lettered $P), late 0,"*"plugin errors 0,"*) ;;
  *) e2e_fail "unexpected summary with poison (want events $((V + P)), rejected $P): $s1" ;;
esac
case "$s2" in
  "stopped: events $V, dispatched $d2, rejected 0 (dead-lettered 0), late 0,"*"plugin errors 0,"*) ;;
  *) e2e_fail "unexpected summary without poison (want events $V, rejected 0): $s2" ;;
esac

# 5. every poison message is on the dead-letter topic: same key, same bytes, its reason
read_dead_letters "$BS" kpistream.dlq poison.events "$WORK" "$WORK/dlq.txt"
sort "$WORK/expected_dlq.txt" > "$WORK/expected_dlq.sorted"
sort "$WORK/dlq.txt" > "$WORK/dlq.sorted"
if ! diff -u "$WORK/expected_dlq.sorted" "$WORK/dlq.sorted" | cut -c1-300; then :; fi
cmp -s "$WORK/expected_dlq.sorted" "$WORK/dlq.sorted" ||
  e2e_fail "kpistream.dlq does not hold exactly the poison messages with their reasons (diff above: tenant, bytes in hex, reason)"
dead=$(wc -l < "$WORK/dlq.txt")

# 6. the results with poison equal the results without it, plugin by plugin
# shellcheck disable=SC2086
same_results "$BS" "$PROTO" "$WORK" kpi clean $plugins
same=$(cat "$WORK"/res1_*.txt | wc -l)
[ "$(wc -l < "$WORK/res1_operations.txt")" -gt 0 ] || e2e_fail "operations produced no results"
grep -q '^operations/offered|acme|voice|sales|||1795428000000 4$' "$WORK/res1_operations.txt" ||
  e2e_fail "operations/offered for acme 10:00 is not 4 (poison counted?)"

echo "poison $P, dead-lettered $dead, results identical $same"

# 7. the poison run again with processing.threads 2 (the input's partition's
# task on the worker thread): the same summary counts, the same dead letters
# (a worker's are produced by the loop thread after each drain), the same
# results
sed -e 's/group.id: e2e-poison/group.id: e2e-poison-threads/' -e 's/topic: kpi\./topic: kpit./' \
  -e 's/dead_letter_topic: kpistream.dlq/dead_letter_topic: kpistream.dlqt/' "$WORK/poison.yaml" \
  > "$WORK/threads.yaml"
printf 'processing: {threads: 2}\n' >> "$WORK/threads.yaml"
s3=$(run_bounded "$KPISTREAM" "$WORK/bootstrap" "$WORK/threads.yaml" "$WORK/threads.log")
echo "with poison, processing.threads 2: $s3"
counts() { printf '%s\n' "$1" | sed -n 's/.*\(events [0-9]*, .*plugin errors [0-9]*\),.*/\1/p'; }
[ -n "$(counts "$s1")" ] && [ "$(counts "$s3")" = "$(counts "$s1")" ] ||
  e2e_fail "processing.threads 2: summary counts differ: $(counts "$s3") vs $(counts "$s1")"
# partition 0's task (all of this input) always runs on the worker thread
grep -q "processing.threads 2: messages processed per thread: loop thread [0-9]*, worker $((V + P))$" \
  "$WORK/threads.log" || { grep "per thread" "$WORK/threads.log"; e2e_fail "processing.threads 2: the worker did not process the input"; }
read_dead_letters "$BS" kpistream.dlqt poison.events "$WORK" "$WORK/dlqt.txt"
sort "$WORK/dlqt.txt" > "$WORK/dlqt.sorted"
cmp -s "$WORK/expected_dlq.sorted" "$WORK/dlqt.sorted" || {
  diff -u "$WORK/expected_dlq.sorted" "$WORK/dlqt.sorted" | cut -c1-300
  e2e_fail "processing.threads 2: kpistream.dlqt does not hold exactly the poison messages"
}
# shellcheck disable=SC2086
same_results "$BS" "$PROTO" "$WORK" kpit clean $plugins
echo "processing.threads 2: the same counts, dead letters and results"
