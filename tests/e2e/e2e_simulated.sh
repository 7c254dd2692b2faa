#!/usr/bin/env bash
# The demo's path, bounded: embedded broker, `kpistream simulate` publishes
# 4 simulated hours, `kpistream run --until-eof` with deploy/demo.yaml
# computes them. Checks that nothing the simulator writes is rejected or
# late, and that every interval of the simulated hours has results
# (determinism of the simulator is tested in test_sim_model).
# usage: e2e_simulated.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3
. "$SRC/tests/e2e/lib.sh"
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

# a behaviour rate out of range is a usage error naming the option and value
for bad in "--reopen-rate 1.5" "--callback-accept -0.1" "--ring-no-answer nan" \
  "--survey-rate x" "--callback-wait 2d" "--callback-wait -5s"; do
  set -- $bad
  rc=0
  "$KPISTREAM" simulate --bootstrap-file "$WORK/bootstrap" "$1" "$2" > "$WORK/bad.out" 2>&1 || rc=$?
  [ "$rc" -eq 2 ] && grep -qF -- "$1: '$2' is not" "$WORK/bad.out" ||
    { cat "$WORK/bad.out"; e2e_fail "simulate $bad: exit $rc, not a usage error naming it"; }
done

"$KPISTREAM" simulate --bootstrap-file "$WORK/bootstrap" --seed 7 --speed max --duration 4h \
  > "$WORK/sim.out" 2> "$WORK/sim.log" || { cat "$WORK/sim.log"; e2e_fail "simulate failed"; }
produced=$(kcat -C -b "$BS" -t events.voice -e -q -f '.' | wc -c)
[ "$produced" -gt 1000 ] || e2e_fail "simulator produced only $produced voice events"

timeout 180 "$KPISTREAM" run -c "$SRC/deploy/demo.yaml" --bootstrap-file "$WORK/bootstrap" \
  --plugin-dir "$PLUGIN_DIR" --until-eof > "$WORK/run.log" 2>&1 ||
  { tail -20 "$WORK/run.log"; e2e_fail "kpistream run failed"; }
summary=$(grep "runner: stopped:" "$WORK/run.log")
echo "$summary"
case "$summary" in
  *"rejected 0 (dead-lettered 0), late 0,"*"plugin errors 0,"*) ;;
  *) e2e_fail "simulated traffic was rejected, late or failed a plugin" ;;
esac

# offered per (tenant, channel, queue, interval): every 15-minute interval of
# the 4 simulated hours (08:00-12:00) has a result for each tenant's voice queues
keys=$(kcat -C -b "$BS" -t kpi.operations -e -q -f '%k\n' | grep '^operations/offered|' | sort -u)
for tenant in $(printf '%s\n' "$keys" | cut -d'|' -f2 | sort -u); do
  n=$(printf '%s\n' "$keys" | grep "^operations/offered|$tenant|voice|support|||" | wc -l)
  [ "$n" -eq 16 ] || e2e_fail "tenant $tenant voice/support has offered for $n intervals, not 16"
done
echo "16 intervals of offered for every tenant's voice/support queue"

# the behaviours the resolution, routing and experience KPIs read are in the
# demo's stream (rates and lifecycles: test_sim_model), and operations counts
# the reopens of e-mail and chat contacts
sed -n 's/^  \([0-9]*\) handled, \([0-9]*\) reopened, \([0-9]*\) call-backs (of [0-9]* offered), \([0-9]*\) offers rung out, \([0-9]*\) surveys answered$/\1 \2 \3 \4 \5/p' \
  "$WORK/sim.out" > "$WORK/behaviours"
read -r handled reopened callbacks rung_out surveys < "$WORK/behaviours" ||
  { cat "$WORK/sim.out"; e2e_fail "no behaviour line in the simulator's summary"; }
for v in "$handled" "$reopened" "$callbacks" "$rung_out" "$surveys"; do
  [ "$v" -gt 0 ] || { cat "$WORK/sim.out"; e2e_fail "a behaviour is missing from 4 simulated hours"; }
done
"$KPISTREAM" dump --bootstrap-file "$WORK/bootstrap" kpi.operations > "$WORK/ops.dump" ||
  e2e_fail "dump of kpi.operations failed"
counted=$(awk -F'\t' '$1 ~ /^operations\/reopened\|[^|]*\|(email|chat)\|/ { n += $3 } END { print n + 0 }' \
  "$WORK/ops.dump")
[ "$counted" -gt 0 ] || e2e_fail "operations counted no reopen (the simulator reopened $reopened)"
echo "simulator: $handled handled, $reopened reopened ($counted counted by operations)," \
  "$callbacks call-backs, $rung_out offers rung out, $surveys surveys answered"
