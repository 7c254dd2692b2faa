#!/usr/bin/env bash
# `kpistream run --check-config` makes every check `run` makes before it
# connects: for each bad configuration below it exits 2 with the reason at
# file:line, and `run` itself (given a bootstrap address nothing listens on)
# refuses the same configuration with the same message, before connecting.
# A plugin that misuses the host API in init (emit, tables, NULL arguments)
# is refused with exit 2, never a crash.
#
# usage: e2e_check_config.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR TEST_PLUGIN_DIR
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3 TEST_PLUGIN_DIR=$4
. "$SRC/tests/e2e/lib.sh"
WORK=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"' EXIT

n=0
# refused NAME EXPECTED_MESSAGE — the config is in $WORK/NAME.yaml
refused() {
  local name=$1 want=$2 f=$WORK/$1.yaml out rc
  want=${want//@F@/$f}
  set +e
  out=$("$KPISTREAM" run -c "$f" --plugin-dir "$PLUGIN_DIR" --check-config 2>&1); rc=$?
  set -e
  [ $rc -eq 2 ] || e2e_fail "$name: --check-config exited $rc (want 2): $out"
  case "$out" in *"$want"*) ;; *) e2e_fail "$name: --check-config said '$out', want '$want'" ;; esac
  # run refuses it too, the same way, before any connection (127.0.0.1:9 is the discard port)
  set +e
  out=$(timeout 60 "$KPISTREAM" run -c "$f" --plugin-dir "$PLUGIN_DIR" -b 127.0.0.1:9 2>&1); rc=$?
  set -e
  [ $rc -eq 2 ] || e2e_fail "$name: run exited $rc (want 2): $out"
  case "$out" in *"$want"*) ;; *) e2e_fail "$name: run said '$out', want '$want'" ;; esac
  n=$((n + 1))
}

head='input: {topics: [events]}
plugins: [{name: operations}]'

printf '%s\nintervals:\n  length: 15m\n  length: 30m\n' "$head" > "$WORK/dup_key.yaml"
refused dup_key "@F@:5:3: duplicate key 'length' in intervals (first at @F@:4:3)"

printf '%s\nstate: {}\nstate: {memory_budget: 1GiB}\n' "$head" > "$WORK/dup_section.yaml"
refused dup_section "@F@:4:1: duplicate key 'state' in the top level (first at @F@:3:1)"

printf '%s\nkafka:\n  consumer:\n    partition.assignment.strategy: roundrobin\n' "$head" \
  > "$WORK/strategy.yaml"
refused strategy "@F@:5:36: kafka property 'partition.assignment.strategy' = 'roundrobin': only 'range'"

printf '%s\nkafka:\n  enable.auto.commit: "true"\n' "$head" > "$WORK/auto_commit.yaml"
refused auto_commit "@F@:4:23: kafka property 'enable.auto.commit' is managed by kpistream"

printf '%s\nkafka:\n  no.such.property: 1\n' "$head" > "$WORK/unknown_prop.yaml"
refused unknown_prop "@F@:4:21: kafka property 'no.such.property' = '1': No such configuration property"

printf '%s\nkafka:\n  producer: {acks: 1}\n' "$head" > "$WORK/acks.yaml"
refused acks "@F@: kafka producer: \`acks\` must be set to \`all\` when \`enable.idempotence\` is true"

for v in nan inf 1e30 99999999999999999999GiB 0.5 -1GiB; do
  printf '%s\nstate:\n  memory_budget: %s\n' "$head" "$v" > "$WORK/budget.yaml"
  refused budget "@F@:4:18: 'state.memory_budget': '$v' is not a size"
done

printf '%s\ncheckpoint: {interval: 0.1ms}\n' "$head" > "$WORK/tiny.yaml"
refused tiny "@F@:3:24: 'checkpoint.interval': '0.1ms' is not a duration"

printf 'input: {topics: [events]}\nplugins:\n  - name: nosuch\n' > "$WORK/missing_plugin.yaml"
refused missing_plugin "@F@:3:11: plugin $PLUGIN_DIR/kpi_nosuch.so: cannot load"

printf 'input: {topics: [events]}\nplugins:\n  - name: operations\n    options:\n      service_level.threshold: soon\n' \
  > "$WORK/bad_option.yaml"
refused bad_option "@F@:5:32: plugin $PLUGIN_DIR/kpi_operations.so (operations"
grep -q "init failed with -22 (invalid argument): option 'service_level.threshold': 'soon' is not a duration" \
  <("$KPISTREAM" run -c "$WORK/bad_option.yaml" --plugin-dir "$PLUGIN_DIR" --check-config 2>&1) ||
  e2e_fail "bad_option: the refused value is not named"

# a value the plugin itself refuses (out of its range, with ks_option_refuse): named at the value
printf 'input: {topics: [events]}\nplugins:\n  - name: operations\n    options:\n      service_level.target: 5\n' \
  > "$WORK/range_option.yaml"
refused range_option "@F@:5:29: plugin $PLUGIN_DIR/kpi_operations.so (operations 1.0.0): init failed with -22 (invalid argument): option 'service_level.target': '5' is not a share between 0 and 1"

printf 'input: {topics: [events]}\nplugins:\n  - name: operations\n    options:\n      service_level.treshold: 20s\n' \
  > "$WORK/unknown_option.yaml"
refused unknown_option "@F@:5:31: plugin $PLUGIN_DIR/kpi_operations.so (operations): unknown option 'service_level.treshold'"

# a plugin calling emit (and the rest of the API, wrongly) from init
printf 'input: {topics: [events]}\nplugins:\n  - name: api_abuse\n    path: %s/api_abuse.so\n' \
  "$TEST_PLUGIN_DIR" > "$WORK/api_abuse.yaml"
refused api_abuse "@F@:3:11: plugin $TEST_PLUGIN_DIR/api_abuse.so (api_abuse 0.0.1): init failed with -22"
out=$("$KPISTREAM" run -c "$WORK/api_abuse.yaml" --plugin-dir "$PLUGIN_DIR" --check-config 2>&1 || true)
case "$out" in *"emit refused: called from init"*) ;;
  *) e2e_fail "api_abuse: the emit refusal is not logged: $out" ;; esac

# `kpistream plugins`: every plugin of the directory with its ABI, and one's
# option map as the plugin declares it (operations_config.c)
"$KPISTREAM" plugins list --plugin-dir "$PLUGIN_DIR" > "$WORK/list.txt"
for p in experience forecast operations quality scorecard value workforce; do
  grep -qE "^$p +1\.0\.0 +1\.3 " "$WORK/list.txt" || { cat "$WORK/list.txt"; e2e_fail "plugins list: no $p 1.0.0, ABI 1.3"; }
done
"$KPISTREAM" plugins describe operations --plugin-dir "$PLUGIN_DIR" > "$WORK/describe.txt"
grep -qE '^  fcr\.scope +choice +any_channel +which earlier contacts make a repeat$' "$WORK/describe.txt" &&
  grep -qE '^ +choices: any_channel, same_channel$' "$WORK/describe.txt" &&
  grep -qE '^  contact_ttl +duration +3d ' "$WORK/describe.txt" ||
  { cat "$WORK/describe.txt"; e2e_fail "plugins describe operations: fcr.scope or contact_ttl missing"; }
set +e
out=$("$KPISTREAM" plugins describe nosuch --plugin-dir "$PLUGIN_DIR" 2>&1); rc=$?
set -e
[ $rc -eq 1 ] && case "$out" in *"kpi_nosuch.so: cannot load"*) true ;; *) false ;; esac ||
  e2e_fail "plugins describe nosuch: exit $rc, '$out'"
# a plugin built against the 1.2 layout: described, with its untyped option list
"$KPISTREAM" plugins describe "$TEST_PLUGIN_DIR/legacy12.so" | grep -q "^legacy12 1.2.0 (ABI 1.2)" ||
  e2e_fail "plugins describe: the 1.2 plugin"

# and a good configuration still passes
printf '%s\n' "$head" > "$WORK/good.yaml"
"$KPISTREAM" run -c "$WORK/good.yaml" --plugin-dir "$PLUGIN_DIR" --check-config > /dev/null ||
  e2e_fail "a good configuration is refused"
echo "$n bad configurations refused by --check-config and by run, at file:line, exit 2"
