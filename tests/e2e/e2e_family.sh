#!/usr/bin/env bash
# One KPI family's output on the wire, checked with independent tools:
# tests/e2e/families/FAMILY.events (one "TOPIC TEXT" per line, TEXT a one-line
# protobuf text-format kpistream.v1.Event) is encoded with protoc --encode and
# produced with kcat keyed by tenant; `kpistream run --until-eof` runs with only
# that family's plugin (options from FAMILY.options, a YAML flow mapping, if
# present); the results are read back with kcat, decoded with protoc --decode
# and compared line for line with FAMILY.expected ("KEY VALUE", null = no value);
# each result's level (field 20) must be the one FAMILY.levels gives its key
# ("ERE LEVEL" lines, first match wins).
#
# Optional, for families that read other plugins' results (scorecard):
#   FAMILY.plugins  one plugin per line, "NAME" or "NAME {YAML flow mapping of
#                   options}", loaded before FAMILY, each with topic kpi.NAME;
#   FAMILY.topics   one result topic per line, read besides kpi.FAMILY; the
#                   expected lines of every topic are in the one FAMILY.expected.
#
# usage: e2e_family.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR FAMILY
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3 FAMILY=$4
. "$SRC/tests/e2e/lib.sh"
PROTO=$SRC/proto
DATA=$SRC/tests/e2e/families
for tool in kcat protoc; do command -v $tool >/dev/null || e2e_fail "$tool is not installed"; done

WORK=$(mktemp -d)
BROKER_PID=
cleanup() {
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

"$KPISTREAM" broker --partitions 1 --bootstrap-file "$WORK/bootstrap" --exit-after 300 \
  > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
BS=$(cat "$WORK/bootstrap")

# encode every event, then produce each topic's events in file order
n=0
topics=()
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in '' | '#'*) continue ;; esac
  topic=${line%% *}
  text=${line#* }
  tenant=$(printf '%s\n' "$text" | sed -n 's/.*tenant: "\([^"]*\)".*/\1/p')
  n=$((n + 1))
  mkdir -p "$WORK/in/$topic"
  encode_event "$PROTO" "$text" "$(printf '%s/in/%s/%04d.bin' "$WORK" "$topic" $n)" ||
    e2e_fail "$FAMILY.events line $n does not encode: $text"
  printf '%s\n' "${tenant:-}" > "$(printf '%s/in/%s/%04d.key' "$WORK" "$topic" $n)"
  case " ${topics[*]:-} " in *" $topic "*) ;; *) topics+=("$topic") ;; esac
done < "$DATA/$FAMILY.events"
[ $n -gt 0 ] || e2e_fail "$FAMILY.events holds no event"
for topic in "${topics[@]}"; do
  for f in "$WORK/in/$topic"/*.bin; do
    kcat -P -b "$BS" -t "$topic" -k "$(cat "${f%.bin}.key")" "$f"
  done
done
echo "produced $n events to ${topics[*]}"

options='{}'
[ -f "$DATA/$FAMILY.options" ] && options=$(grep -v '^#' "$DATA/$FAMILY.options" | tr '\n' ' ')
producers=
if [ -f "$DATA/$FAMILY.plugins" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    name=${line%% *}
    popts='{}'
    [ "$name" != "$line" ] && popts=${line#* }
    producers+="  - {name: $name, topic: kpi.$name, options: $popts}"$'\n'
  done < "$DATA/$FAMILY.plugins"
fi
out_topics=("kpi.$FAMILY")
if [ -f "$DATA/$FAMILY.topics" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    case " ${out_topics[*]} " in *" $line "*) ;; *) out_topics+=("$line") ;; esac
  done < "$DATA/$FAMILY.topics"
fi
cat > "$WORK/kpistream.yaml" <<YAML
kafka:
  consumer:
    group.id: e2e-$FAMILY
    fetch.wait.max.ms: 50
input:
  topics: [events.voice, events.email, events.chat, events.agent, events.feedback, events.business]
  dead_letter_topic: kpistream.dlq
intervals: {length: 15m, allowed_lateness: 0s}
plugin_dir: $PLUGIN_DIR
plugins:
${producers}  - name: $FAMILY
    topic: kpi.$FAMILY
    options: $options
stats_interval: 0s
YAML
timeout 240 "$KPISTREAM" run -c "$WORK/kpistream.yaml" --bootstrap-file "$WORK/bootstrap" \
  --until-eof > "$WORK/run.log" 2>&1 || { cat "$WORK/run.log"; e2e_fail "kpistream run exited $?"; }
grep -Eq "stopped: events $n, dispatched [0-9]+, rejected 0 " "$WORK/run.log" ||
  { cat "$WORK/run.log"; e2e_fail "expected $n events read, none rejected"; }

: > "$WORK/results.unsorted"
for t in "${out_topics[@]}"; do
  got=$(dump_topic "$BS" "$t" "$WORK/out/$t")
  echo "read $got results from $t"
  decode_results "$PROTO" "$WORK/out/$t" >> "$WORK/results.unsorted"
done
sort "$WORK/results.unsorted" > "$WORK/results.txt"
grep -v '^#' "$DATA/$FAMILY.expected" | grep -v '^[[:space:]]*$' | sort > "$WORK/expected.txt"
if ! diff -u "$WORK/expected.txt" "$WORK/results.txt"; then
  e2e_fail "results on ${out_topics[*]} differ from tests/e2e/families/$FAMILY.expected (diff above)"
fi
dups=$(cut -d' ' -f1 "$WORK/results.txt" | uniq -d)
[ -z "$dups" ] || e2e_fail "duplicate result keys: $dups"
echo "all $(wc -l < "$WORK/expected.txt") expected $FAMILY results match"
# every result's aggregation level (protobuf field 20), per FAMILY.levels
: > "$WORK/levels.txt"
for t in "${out_topics[@]}"; do decode_levels "$PROTO" "$WORK/out/$t" >> "$WORK/levels.txt"; done
check_levels "$DATA/$FAMILY.levels" "$WORK/levels.txt"
