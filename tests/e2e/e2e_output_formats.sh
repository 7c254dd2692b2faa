#!/usr/bin/env bash
# Output formats (docs/warehouses.md): one simulated stream through the
# operations plugin three times, to a protobuf, a json and a
# confluent_protobuf topic (output.format / output.topics), then checked with
# independent tools (tests/e2e/check_formats.py: kcat, protoc --decode through
# the installed descriptor set and through the .proto, Python's json, jq):
# the JSON fields equal protoc's decode, the Confluent records are the
# framing plus the protobuf bytes, every record's Kafka timestamp is its
# interval end and its content-type header names its format; a second json
# run writes the same bytes. Also: the
# descriptor set is installed under share/kpistream, and the output keys'
# refusals name the file, line and key.
#
# usage: e2e_output_formats.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR BUILD_DIR
set -euo pipefail
export LC_ALL=C
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3 BUILD=$4
. "$SRC/tests/e2e/lib.sh"
for tool in kcat protoc python3 jq; do command -v $tool >/dev/null || e2e_fail "$tool is not installed"; done

WORK=$(mktemp -d)
BROKER_PID=
cleanup() {
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

"$KPISTREAM" broker --partitions 2 --bootstrap-file "$WORK/bootstrap" --exit-after 300 \
  > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
BS=$(cat "$WORK/bootstrap")
"$KPISTREAM" simulate --bootstrap-file "$WORK/bootstrap" --seed 5 --tenants 1 --duration 2h \
  --speed max --log-level warn > "$WORK/sim.log" 2>&1 || { cat "$WORK/sim.log"; e2e_fail "simulate failed"; }

for f in pb json cf; do
  bounded_config "$WORK/$f.yaml" "g-$f" "events.voice, events.email, events.chat" "kpi-$f" \
    "$PLUGIN_DIR" operations
done
printf 'output: {format: json}\n' >> "$WORK/json.yaml"
printf 'output:\n  schema_id: 9\n  topics:\n    kpi-cf.operations: {format: confluent_protobuf, schema_id: 42}\n' \
  >> "$WORK/cf.yaml"
sed 's/kpi-json/kpi-json2/; s/g-json/g-json2/' "$WORK/json.yaml" > "$WORK/json2.yaml"
for f in pb json cf json2; do run_bounded "$KPISTREAM" "$WORK/bootstrap" "$WORK/$f.yaml" "$WORK/$f.log"; done

# JSON is byte-stable: a second run writes the same bytes for every result
for t in json json2; do
  kcat -C -b "$BS" -t kpi-$t.operations -o beginning -e -q -f '%k\t%s\n' | sort > "$WORK/$t.sorted"
done
cmp -s "$WORK/json.sorted" "$WORK/json2.sorted" || e2e_fail "two runs wrote different JSON for the same results"
echo "JSON byte-stable: two runs, $(wc -l < "$WORK/json.sorted") identical records"

# jq (Debian's) parses every JSON record on its own
kcat -C -b "$BS" -t kpi-json.operations -o beginning -e -q -f '%s\n' > "$WORK/json.txt"
jq -e -c 'select(.key and .interval_end_ms)' "$WORK/json.txt" > /dev/null ||
  e2e_fail "jq refuses the JSON records"
[ "$(jq -c . "$WORK/json.txt" | wc -l)" -eq "$(wc -l < "$WORK/json.txt")" ] || e2e_fail "a JSON record is not one object"
echo "jq parses all $(wc -l < "$WORK/json.txt") JSON records"

python3 "$SRC/tests/e2e/check_formats.py" "$BS" "$SRC/proto" "$BUILD/gen/kpistream.desc" \
  kpi-pb.operations kpi-json.operations kpi-cf.operations 42

# the descriptor set is installed next to the .proto files
cmake --install "$BUILD" --prefix "$WORK/inst" > "$WORK/install.log" 2>&1 || { cat "$WORK/install.log"; e2e_fail "cmake --install failed"; }
[ -s "$WORK/inst/share/kpistream/kpistream.desc" ] || e2e_fail "share/kpistream/kpistream.desc not installed"
cmp -s "$WORK/inst/share/kpistream/kpistream.desc" "$BUILD/gen/kpistream.desc" || e2e_fail "installed descriptor set differs"
echo "descriptor set installed at share/kpistream/kpistream.desc"

# refusals name file, line and key
refused() { # refused YAML_SNIPPET EXPECTED_TEXT
  printf 'input: {topics: [in]}\nplugin_dir: %s\nplugins: [{name: operations}]\n%s\n' "$PLUGIN_DIR" "$1" > "$WORK/bad.yaml"
  local out rc=0
  out=$("$KPISTREAM" run -c "$WORK/bad.yaml" --check-config 2>&1) || rc=$?
  [ $rc -eq 2 ] || e2e_fail "config '$1' exited $rc: $out"
  case "$out" in *"bad.yaml:4:"*"$2"*) ;; *) e2e_fail "config '$1' said: $out" ;; esac
}
refused 'output: {format: avro}' "'output.format': 'avro' is not protobuf, json or confluent_protobuf"
refused 'output: {format: confluent_protobuf}' "'output.format' confluent_protobuf needs a schema_id"
refused 'output: {topics: {kpi.x: {format: json, schema_id: -1}}}' "'output.topics.kpi.x.schema_id': '-1' is not a Schema Registry id"
echo "bad output keys refused with file, line and key"
