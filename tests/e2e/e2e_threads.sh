#!/usr/bin/env bash
# processing.threads (issue 16) end to end: embedded broker with 8 partitions,
# `kpistream simulate` publishes 2 simulated hours of 16 tenants, then
# `kpistream run --until-eof` with deploy/demo.yaml (every plugin) computes
# them twice, once with processing.threads 1 and once with 3 (the loop thread
# and two workers), each in its own consumer group. Checks: both exit 0 with
# the same run summary counts (events, rejected, late, results, plugin
# errors), the second logs its worker threads, and every result key ends
# with the same value, numerator, denominator and count in both runs (the
# last record of each key; revision numbers may differ with how the input
# was batched, docs/reliability.md).
# usage: e2e_threads.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR
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

"$KPISTREAM" broker --partitions 8 --bootstrap-file "$WORK/bootstrap" --exit-after 600 \
  > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30

"$KPISTREAM" simulate --bootstrap-file "$WORK/bootstrap" --seed 16 --speed max --duration 2h \
  --tenants 16 > "$WORK/sim.out" 2> "$WORK/sim.log" || { cat "$WORK/sim.log"; e2e_fail "simulate failed"; }

TOPICS="kpi.operations kpi.experience kpi.workforce kpi.quality kpi.value kpi.forecast kpi.scorecard"
# run THREADS: one bounded run into its own output topics (kpi.* renamed kpi<THREADS>.*)
run() {
  local n=$1 cfg=$WORK/threads$1.yaml
  sed -e "s/group.id: kpistream-demo/group.id: threads-$n/" -e "s/topic: kpi\./topic: kpi$n./" \
    "$SRC/deploy/demo.yaml" > "$cfg"
  printf 'processing:\n  threads: %s\n' "$n" >> "$cfg"
  grep -q "group.id: threads-$n" "$cfg" && grep -q "topic: kpi$n.operations" "$cfg" ||
    e2e_fail "could not derive the configuration from deploy/demo.yaml"
  timeout 300 "$KPISTREAM" run -c "$cfg" --bootstrap-file "$WORK/bootstrap" \
    --plugin-dir "$PLUGIN_DIR" --until-eof > "$WORK/run$n.log" 2>&1 ||
    { tail -20 "$WORK/run$n.log"; e2e_fail "kpistream run with processing.threads $n failed"; }
  local t
  for t in $TOPICS; do
    "$KPISTREAM" dump --bootstrap-file "$WORK/bootstrap" "kpi$n.${t#kpi.}" >> "$WORK/dump$n" ||
      e2e_fail "dump of kpi$n.${t#kpi.} failed"
  done
  # the last record of each key, without its revision
  awk -F'\t' '{ last[$1] = $3 "\t" $4 "\t" $5 "\t" $6 } END { for (k in last) print k "\t" last[k] }' \
    "$WORK/dump$n" | sort > "$WORK/final$n"
  # events, dispatched, rejected, late, results, plugin errors of the summary
  sed -n 's/.*runner: stopped: \(events [0-9]*, dispatched [0-9]*, rejected [0-9]*\).*\(late [0-9]*\).*\(results [0-9]*\).*\(plugin errors [0-9]*\).*/\1 \2 \3 \4/p' \
    "$WORK/run$n.log" > "$WORK/summary$n"
  [ -s "$WORK/summary$n" ] || { tail -5 "$WORK/run$n.log"; e2e_fail "run $n: no summary line"; }
  echo "processing.threads $n: $(cat "$WORK/summary$n"), $(wc -l < "$WORK/final$n") result keys"
}
run 1
run 3

grep -q "processing.threads 3: tasks run on the loop thread and 2 workers" "$WORK/run3.log" ||
  e2e_fail "the run with processing.threads 3 did not start its workers"
grep -q "processing.threads" "$WORK/run1.log" && e2e_fail "processing.threads 1 started workers"
grep -q "processing.threads 3: messages processed per thread: loop thread [1-9][0-9]*, worker [1-9][0-9]*, worker [1-9][0-9]*$" \
  "$WORK/run3.log" || { grep "per thread" "$WORK/run3.log"; e2e_fail "a thread processed nothing"; }
grep "messages processed per thread" "$WORK/run3.log" | sed 's/.*runner: //'
grep -q "events [1-9][0-9]*, dispatched" "$WORK/summary1" || e2e_fail "no events processed"
grep -q "plugin errors 0" "$WORK/summary1" || e2e_fail "plugin errors with one thread"
cmp -s "$WORK/summary1" "$WORK/summary3" ||
  e2e_fail "run summaries differ: $(cat "$WORK/summary1") vs $(cat "$WORK/summary3")"
[ "$(wc -l < "$WORK/final1")" -gt 1000 ] || e2e_fail "only $(wc -l < "$WORK/final1") result keys"
# every key of every family, with the same final figures
sed 's/^kpi1\./kpi./' "$WORK/final1" > "$WORK/a"
sed 's/^kpi3\./kpi./' "$WORK/final3" > "$WORK/b"
if ! cmp -s "$WORK/a" "$WORK/b"; then
  diff "$WORK/a" "$WORK/b" | head -20
  e2e_fail "results with processing.threads 3 differ from those with 1"
fi
echo "processing.threads 3 published the same final result of every key as 1"
