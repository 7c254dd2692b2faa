#!/usr/bin/env bash
# log.format: json (issue 14): `kpistream run --until-eof` at log_level
# debug over simulated events and one garbage message prints, on stdout and
# stderr, only lines that jq parses, each one object with exactly the keys
# time (RFC 3339 UTC with milliseconds), level, component and msg; the
# dead letter's warning and the final line are among them. With an unknown
# format the start fails naming the key.
# usage: e2e_log_json.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3
. "$SRC/tests/e2e/lib.sh"
for tool in kcat jq; do command -v $tool > /dev/null || e2e_fail "$tool is not installed"; done
WORK=$(mktemp -d)
BROKER_PID=
cleanup() {
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

"$KPISTREAM" broker --partitions 2 --bootstrap-file "$WORK/bootstrap" --exit-after 200 \
  > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
BS=$(cat "$WORK/bootstrap")
"$KPISTREAM" simulate --bootstrap-file "$WORK/bootstrap" --seed 7 --speed max --duration 30m \
  --tenants 1 > "$WORK/sim.out" 2> "$WORK/sim.log" || { cat "$WORK/sim.log"; e2e_fail "simulate failed"; }
printf 'not "an" event\x01\xff' | kcat -P -b "$BS" -t events.voice -k acme

cat > "$WORK/run.yaml" <<YAML
kafka: {consumer: {group.id: logjson, session.timeout.ms: 6000, fetch.wait.max.ms: 50}}
input: {topics: [events.voice, events.email, events.chat, events.agent], dead_letter_topic: dlq}
intervals: {length: 15m, allowed_lateness: 30s}
plugin_dir: $PLUGIN_DIR
plugins: [{name: operations}]
stats_interval: 200ms
log_level: debug
log: {format: json}
YAML
timeout 240 "$KPISTREAM" run -c "$WORK/run.yaml" --bootstrap-file "$WORK/bootstrap" --until-eof \
  > "$WORK/run.out" 2> "$WORK/run.err" || { cat "$WORK/run.err"; e2e_fail "kpistream run failed"; }
cat "$WORK/run.out" "$WORK/run.err" > "$WORK/all.log"
lines=$(wc -l < "$WORK/all.log")
[ "$lines" -gt 3 ] || e2e_fail "only $lines log lines"
# every line alone is one JSON object with exactly the four keys
n=0
while IFS= read -r line; do
  n=$((n + 1))
  keys=$(printf '%s\n' "$line" | jq -c 'keys') || e2e_fail "line $n is not JSON: $line"
  [ "$keys" = '["component","level","msg","time"]' ] || e2e_fail "line $n has keys $keys: $line"
  printf '%s\n' "$line" | jq -e '(.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"))
      and (.level | IN("error", "warn", "info", "debug")) and (.component | length > 0)
      and (.msg | type == "string")' > /dev/null || e2e_fail "line $n: bad values: $line"
done < "$WORK/all.log"
echo "$n lines, each one JSON object with time, level, component, msg"
jq -r '.level' "$WORK/all.log" | sort | uniq -c
jq -e -s 'map(select(.level == "warn" and (.msg | test("^rejected events\\.voice \\[[01]\\] offset [0-9]+: .* -> dlq$")))) | length == 1' \
  "$WORK/all.log" > /dev/null || e2e_fail "not one warning about the dead letter"
jq -r 'select(.level == "warn") | .msg' "$WORK/all.log"
jq -e -s 'map(select(.component == "runner" and (.msg | test("^stopped: .*rejected 1")))) | length == 1' \
  "$WORK/all.log" > /dev/null || e2e_fail "no final 'stopped:' line with rejected 1"
jq -r -s 'map(select(.msg | test("^stopped: "))) | .[0].msg' "$WORK/all.log"

# an unknown format fails the start, naming the key
sed -i 's/format: json/format: logfmt/' "$WORK/run.yaml"
set +e
"$KPISTREAM" run -c "$WORK/run.yaml" --bootstrap-file "$WORK/bootstrap" --until-eof > "$WORK/bad.log" 2>&1
rc=$?
set -e
[ "$rc" = 2 ] || e2e_fail "log.format logfmt: exit $rc, not 2"
grep -q "run.yaml:8:15: 'log.format': 'logfmt' is not one of text, json" "$WORK/bad.log" ||
  e2e_fail "log.format logfmt: $(cat "$WORK/bad.log")"
echo "OK"
