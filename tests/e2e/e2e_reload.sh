#!/usr/bin/env bash
# SIGHUP that rebuilds the engine (plugins[] and intervals.* changes), end to
# end against the embedded broker, one partition per topic, three phases of
# simulated traffic (A 08:00-09:00, B 09:00-10:00, C 10:00-11:00):
#  reload run: operations with service_level.threshold 20s consumes A; an
#    invalid reload (threshold 'soon', refused by the plugin's option map)
#    is refused and logged and the service keeps running; SIGHUP with 60s
#    rebuilds the engine; B is consumed; SIGHUP adding instance ops_b starts
#    it; C is consumed; SIGTERM.
#  reference: the same input with 20s over A (stop), then a restart with
#    60s over B and C: the operations results of the reload run equal the
#    reference's exactly (nothing lost or counted twice, 60 s from the
#    reload on), and differ from a reference that kept 20 s (so the test
#    sees the threshold change).
#  No rebalance: the reload run logs one assignment and no revocation.
# usage: e2e_reload.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3
. "$SRC/tests/e2e/lib.sh"
command -v kcat > /dev/null || e2e_fail "kcat is not installed"
command -v protoc > /dev/null || e2e_fail "protoc is not installed"
WORK=$(mktemp -d)
BROKER_PID= RUN_PID=
cleanup() {
  for p in ${RUN_PID:-} ${BROKER_PID:-}; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

"$KPISTREAM" broker --partitions 1 --bootstrap-file "$WORK/bootstrap" --exit-after 400 \
  > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
BS=$(cat "$WORK/bootstrap")
TOPICS="events.voice events.email events.chat events.agent events.feedback events.business"

phase() { # phase START — one simulated hour from START
  "$KPISTREAM" simulate --bootstrap-file "$WORK/bootstrap" --seed 7 --speed max --duration 1h \
    --tenants 1 --start "$1" > /dev/null 2> "$WORK/sim.log" || { cat "$WORK/sim.log"; e2e_fail "simulate failed"; }
}
produced() {
  local n=0 t
  for t in $TOPICS; do n=$((n + $(kcat -C -b "$BS" -t "$t" -e -q -f '.' | wc -c))); done
  echo $n
}
# config NAME GROUP THRESHOLD [EXTRA_PLUGIN]
config() {
  cat > "$WORK/$1.yaml" <<YAML
kafka:
  consumer: {group.id: $2, session.timeout.ms: 6000, fetch.wait.max.ms: 50}
input: {topics: [events.voice, events.email, events.chat, events.agent, events.feedback, events.business]}
intervals: {length: 15m, allowed_lateness: 30s, idle_timeout: 0s}
checkpoint: {interval: 500ms}
plugin_dir: $PLUGIN_DIR
plugins:
  - {name: operations, topic: $2.operations, options: {service_level.threshold: $3}}
$4
stats_interval: 200ms
log_level: info
YAML
}
# stats LOG — "EVENTS BUFFERED" of LOG's last stats line: events the engine
# processed (since it was built) and input the merge holds, not processed yet
stats() {
  tail -n 200 "$1" 2> /dev/null | grep "runner: events " | tail -1 |
    sed -n 's/.*runner: events \([0-9]*\) .*, buffered \([0-9]*\),.*/\1 \2/p'
}
# consumed LOG N — processed + buffered = N, and the line after it says the same
consumed() {
  local s
  s=$(stats "$1")
  [ -n "$s" ] && [ $((${s% *} + ${s#* })) -eq "$2" ]
}
start_run() { # start_run CONFIG LOG
  "$KPISTREAM" run -c "$WORK/$1.yaml" --bootstrap-file "$WORK/bootstrap" >> "$WORK/$2" 2>&1 &
  RUN_PID=$!
}
stop_run() {
  kill -TERM "$RUN_PID"
  wait "$RUN_PID" || e2e_fail "kpistream run exited $? ($(tail -5 "$WORK/$1"))"
  RUN_PID=
}

phase 2026-11-23T08:00:00Z
NA=$(produced)

# ---- references, first runs over A: ref and r20 with 20 s --------------------
for g in ref r20; do
  config $g $g 20s ""
  start_run $g $g.log
  wait_until 90 "$g: phase A consumed ($NA events)" consumed "$WORK/$g.log" "$NA"
  sleep 1 # what the merge holds at the end is steady (the reload run's waits the same)
  wait_until 90 "$g: phase A consumed ($NA events)" consumed "$WORK/$g.log" "$NA"
  b=$(stats "$WORK/$g.log")
  declare "BUF_$g=${b#* }"
  stop_run $g.log
done

# ---- the reload run: group rl ----------------------------------------------
config k rl 20s ""
start_run k rl.log
wait_until 90 "phase A consumed ($NA events)" consumed "$WORK/rl.log" "$NA"
# an invalid reload: refused by the plugin's option map, the old engine runs on
config k rl soon ""
kill -HUP "$RUN_PID"
refused() { grep -q "reload refused: $WORK/k.yaml: the engine cannot be rebuilt from it: .*service_level.threshold.*still running the previous configuration" "$WORK/rl.log"; }
wait_until 30 "the invalid reload refused" refused
grep "reload refused" "$WORK/rl.log" | head -1
# the valid one: 60 s from here on
config k rl 60s ""
kill -HUP "$RUN_PID"
rebuilt() { [ "$(grep -c "reload: engine rebuilt" "$WORK/rl.log")" -ge "$1" ]; }
wait_until 60 "the reload to 60s" rebuilt 1
grep -q "reload: engine rebuilt with 1 plugins (1 carried over)" "$WORK/rl.log" || e2e_fail "reload line: $(grep 'reload:' "$WORK/rl.log")"
phase 2026-11-23T09:00:00Z
NB=$(produced)
# the new engine counts from the reload on; what the merge held then it processes
BUF_A=$(grep -B1000000 "reload: engine rebuilt" "$WORK/rl.log" | grep "runner: events " | tail -1 |
  sed -n 's/.*, buffered \([0-9]*\),.*/\1/p')
wait_until 90 "phase B consumed" consumed "$WORK/rl.log" "$((NB - NA + BUF_A))"
BUF_B=$(stats "$WORK/rl.log")
BUF_B=${BUF_B#* }
# a reload that adds a second instance starts it (empty)
config k rl 60s "  - {name: operations, instance: ops_b, topic: rl.ops_b, options: {service_level.threshold: 60s}}"
kill -HUP "$RUN_PID"
wait_until 60 "the reload adding ops_b" rebuilt 2
grep -q "reload: engine rebuilt with 2 plugins (1 carried over)" "$WORK/rl.log" || e2e_fail "reload line: $(grep 'reload:' "$WORK/rl.log")"
phase 2026-11-23T10:00:00Z
NC=$(produced)
wait_until 90 "phase C consumed" consumed "$WORK/rl.log" "$((NC - NB + BUF_B))"
stop_run rl.log
[ "$(grep -c "runner: assigned " "$WORK/rl.log")" = 1 ] || e2e_fail "more than one assignment: $(grep 'assigned\|revoked' "$WORK/rl.log")"
# (the stop's own revocation, after "stopping:", is the consumer leaving)
! sed '/runner: stopping:/q' "$WORK/rl.log" | grep -q "runner: revoked" ||
  e2e_fail "a rebalance happened: $(grep 'revoked' "$WORK/rl.log")"
nb=$(dump_topic "$BS" rl.ops_b "$WORK/ops_b")
[ "$nb" -gt 0 ] || e2e_fail "the instance added by the reload published nothing"
echo "reload run: $NA + $((NB - NA)) + $((NC - NB)) events, ops_b published $nb results, one assignment, no revocation"

# ---- references, restarts over B and C: ref with 60 s, r20 with 20 s ---------
config ref ref 60s ""
config r20 r20 20s ""
for g in ref r20; do
  start_run $g $g.2.log
  b=BUF_$g
  wait_until 90 "$g: phases B and C consumed" consumed "$WORK/$g.2.log" "$((NC - NA + ${!b}))"
  stop_run $g.2.log
done
# results as multisets of (key, value bytes): kcat's dumps, compared in python
dump() { # dump TOPIC (the order of one partition is all that matters: keys are per partition)
  kcat -C -b "$BS" -t "$1" -o beginning -e -q -f '%k\t%R%s' > "$WORK/$1.dump"
}
for t in rl ref r20; do dump $t.operations; done
cmp_results() { python3 "$SRC/tests/e2e/latest_results.py" "$WORK/$1.operations.dump" "$WORK/$2.operations.dump"; }
# the reload run's results are the 20s-then-60s restart's, exactly
read -r n1 n2 only1 only2 <<< "$(cmp_results rl ref)"
echo "reload run: $n1 results; 20 s then restart with 60 s: $n2; only in one: $only1, $only2"
[ "$n1" -gt 1000 ] && [ "$n1" = "$n2" ] && [ "$only1" = 0 ] && [ "$only2" = 0 ] ||
  e2e_fail "the reload run's results differ from those of a restart with the same change"
# and not those of 20 s throughout: the test sees the threshold change
read -r n1 n2 only1 only2 <<< "$(cmp_results rl r20)"
echo "20 s throughout: $n2 results; only in the reload run: $only1, only there: $only2"
[ "$only1" -gt 0 ] || e2e_fail "the results with 20 s throughout equal the reload's: no effect"
echo "e2e_reload: OK"
