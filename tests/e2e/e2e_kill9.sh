#!/usr/bin/env bash
# Crash safety: `kpistream run` is killed with SIGKILL at random points of a
# simulated stream and restarted, again and again, while the broker stays up.
# The highest revision per key on its output topic must equal, key for key
# and value for value, the output of an uninterrupted run; no key missing,
# none extra, and no two records with the same key and revision but
# different values.
#
# Kill points: each run is killed once its own progress log shows it has
# processed a random number of events (the seed is printed; set
# KS_KILL_SEED to replay), so every kill lands mid-stream, between or inside
# checkpoints, never during start-up only.
#
# Mode "paced" (e2e_kill9_paced): without checkpoints, offsets are
# committed at most every commit.interval (50ms here) once intervals close,
# as the engine's safe offsets (the first offset still feeding an open
# interval); a restart resumes from the last commit with empty state. The
# reference run must make at most one commit per commit.interval (plus the
# final ones), and the results that depend only on their interval's input
# (the counter test plugin's "events": state that spans intervals is lost
# without checkpoints, docs/reliability.md) must equal the uninterrupted
# run's after the kills: no commit ran ahead of its acknowledged results.
#
# usage: e2e_kill9.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR [paced TEST_PLUGIN_DIR]
set -euo pipefail
export LC_ALL=C
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3 MODE=${4:-checkpoint}
case $MODE in
  checkpoint)
    COMMITS="checkpoint: {interval: 100ms}"
    PLUGIN="{name: operations" ;;
  paced)
    COMMITS=$(printf 'checkpoint: {enabled: false}\ncommit: {interval: 50ms}')
    PLUGIN="{name: counter, path: ${5:?test plugin dir}/counter.so" ;;
  *) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
. "$SRC/tests/e2e/lib.sh"
SEED=${KS_KILL_SEED:-$(date +%s)}
RANDOM=$SEED
KILLS=${KS_KILLS:-6}
echo "kill seed $SEED ($KILLS kills, mode $MODE)"

WORK=$(mktemp -d)
BROKER_PID=
RUN_PID=
cleanup() {
  [ -n "$RUN_PID" ] && kill -9 "$RUN_PID" 2>/dev/null
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# The killed runs re-emit up to twice the results; the mock keeps ~5 MiB or
# 100 000 batches per partition and drops the oldest silently, which lost
# first-interval results once (missing 4310): their output has 8 partitions,
# and the comparison checks that nothing was dropped.
"$KPISTREAM" broker --partitions 2 --topic kpi.ref.operations:2 --topic kpi.chaos.operations:8 \
  --bootstrap-file "$WORK/bootstrap" --exit-after 600 > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
BS=$(cat "$WORK/bootstrap")

# A deterministic stream: 2 tenants, 12 simulated hours, every input topic.
"$KPISTREAM" simulate --bootstrap-file "$WORK/bootstrap" --seed 11 --tenants 2 --duration 12h \
  --speed max --log-level warn > "$WORK/sim.log" 2>&1 || { cat "$WORK/sim.log"; e2e_fail "simulate failed"; }

config() { # config GROUP OUTPUT_TOPIC
  cat <<YAML
kafka:
  consumer:
    group.id: $1
    session.timeout.ms: 6000
    fetch.wait.max.ms: 50
input:
  topics: [events.voice, events.email, events.chat, events.agent, events.feedback, events.business]
  dead_letter_topic: kpistream.dlq
intervals: {length: 15m, allowed_lateness: 2m}
$COMMITS
plugin_dir: $PLUGIN_DIR
plugins:
  - $PLUGIN, topic: $2}
stats_interval: 20ms
YAML
}
config ref kpi.ref.operations > "$WORK/ref.yaml"
config chaos kpi.chaos.operations > "$WORK/chaos.yaml"

# 1. the uninterrupted run
timeout 120 "$KPISTREAM" run -c "$WORK/ref.yaml" --bootstrap-file "$WORK/bootstrap" --until-eof \
  > "$WORK/ref.log" 2>&1 || { tail -20 "$WORK/ref.log"; e2e_fail "reference run failed"; }
EVENTS=$(sed -n 's/.*stopped: events \([0-9]*\),.*/\1/p' "$WORK/ref.log")
[ "${EVENTS:-0}" -gt 10000 ] || e2e_fail "reference run read ${EVENTS:-0} events"
if [ "$MODE" = paced ]; then
  # at most one commit per commit.interval, plus the final one at shutdown
  # and one at the revoke that follows it (each closed interval asks for one)
  log_ms() { # milliseconds of the day of the first log line matching $1
    local t
    t=$(grep -m1 "$1" "$WORK/ref.log" | sed -n 's/^[0-9-]*T\([0-9:.]*\)Z.*/\1/p' | tr ':.' '  ')
    set -- $t
    echo $(((10#$1 * 3600 + 10#$2 * 60 + 10#$3) * 1000 + 10#$4))
  }
  REF_MS=$((($(log_ms 'runner: stopped:') - $(log_ms 'runner: assigned') + 86400000) % 86400000))
  stopped=$(grep 'runner: stopped:' "$WORK/ref.log")
  commits=$(echo "$stopped" | sed -n 's/.*, commits \([0-9]*\),.*/\1/p')
  closed=$(echo "$stopped" | sed -n 's/.*intervals closed \([0-9]*\),.*/\1/p')
  bound=$((REF_MS / 50 + 3))
  echo "reference run: $commits commits in $REF_MS ms from assignment to stop ($closed intervals" \
    "closed), at most $bound"
  [ "${commits:-0}" -ge 1 ] && [ "$commits" -le $bound ] ||
    e2e_fail "$commits commits in $REF_MS ms with commit.interval 50ms (at most $bound)"
fi

# 2. runs killed with SIGKILL at random progress points, then one to the end
events_seen() { sed -n 's/.*runner: events \([0-9]*\) (.*/\1/p' "$1" | tail -1; }
kills=0
runs=0
while :; do
  runs=$((runs + 1))
  [ $runs -le $((KILLS + 5)) ] || e2e_fail "no run reached the end after $runs starts"
  log="$WORK/chaos.$runs.log"
  : > "$log"
  "$KPISTREAM" run -c "$WORK/chaos.yaml" --bootstrap-file "$WORK/bootstrap" --until-eof \
    > "$log" 2>&1 &
  RUN_PID=$!
  if [ $kills -lt "$KILLS" ]; then
    # kill after this run has processed a random share of what is left
    target=$((RANDOM % (EVENTS / KILLS) + 200))
    deadline=$((SECONDS + 90))
    while kill -0 "$RUN_PID" 2>/dev/null; do
      seen=$(events_seen "$log")
      if [ "${seen:-0}" -ge $target ]; then
        kill -9 "$RUN_PID" 2>/dev/null || true
        kills=$((kills + 1))
        echo "run $runs: killed -9 after ${seen} events (target $target)"
        break
      fi
      [ $SECONDS -lt $deadline ] || e2e_fail "run $runs made no progress in 90 s"
      sleep 0.02
    done
  fi
  set +e
  wait "$RUN_PID"
  rc=$?
  set -e
  RUN_PID=
  if [ $rc -eq 0 ]; then
    echo "run $runs: reached the end ($(sed -n 's/.*\(restored checkpoint [0-9]*\).*/\1/p' "$log" | head -1))"
    break
  fi
  [ $rc -eq 137 ] || { tail -20 "$log"; e2e_fail "run $runs exited $rc"; }
done
[ $kills -ge 1 ] || e2e_fail "no run was killed (stream too short?)"

# 3. compare: highest revision per key, and no conflicting duplicates
"$KPISTREAM" dump --bootstrap-file "$WORK/bootstrap" kpi.ref.operations > "$WORK/ref.dump"
"$KPISTREAM" dump --bootstrap-file "$WORK/bootstrap" kpi.chaos.operations > "$WORK/chaos.dump"
for p in 0 1 2 3 4 5 6 7; do
  first=$(kcat -b "$BS" -C -t kpi.chaos.operations -p $p -o beginning -c 1 -e -f '%o\n' 2>/dev/null || true)
  [ "${first:-0}" = 0 ] || e2e_fail "the broker dropped the first $first records of kpi.chaos.operations [$p] (retention): raise its partitions"
done
if [ "$MODE" = paced ]; then # only the results that depend on their interval alone
  for d in ref chaos; do
    grep '^counter/events|' "$WORK/$d.dump" > "$WORK/$d.kept" || e2e_fail "no events results in $d"
    mv "$WORK/$d.kept" "$WORK/$d.dump"
  done
fi
check_no_conflicts "$WORK/chaos.dump"
latest_by_key "$WORK/ref.dump" > "$WORK/ref.latest"
latest_by_key "$WORK/chaos.dump" > "$WORK/chaos.latest"
total=$(wc -l < "$WORK/chaos.dump")
results=$(wc -l < "$WORK/ref.latest")
missing=$(join -t "$(printf '\t')" -v1 "$WORK/ref.latest" "$WORK/chaos.latest" | wc -l)
extra=$(join -t "$(printf '\t')" -v2 "$WORK/ref.latest" "$WORK/chaos.latest" | wc -l)
differ=$(diff "$WORK/ref.latest" "$WORK/chaos.latest" | grep -c '^>' || true)
echo "events in $EVENTS, kills $kills, runs $runs, results $results, records written $total" \
  "(re-emitted $((total - results))), missing $missing, extra $extra, different $differ, conflicts 0"
if [ "$missing" -ne 0 ] || [ "$extra" -ne 0 ] || [ "$differ" -ne 0 ]; then
  diff "$WORK/ref.latest" "$WORK/chaos.latest" | head -20
  e2e_fail "output after kills differs from the uninterrupted run"
fi
# Incremental checkpoints (a delta every 100 ms, a full snapshot every 10):
# the restores must have replayed deltas, not only full snapshots.
restores=$(cat "$WORK"/chaos.*.log | grep -c "restored checkpoint" || true)
with_deltas=$(cat "$WORK"/chaos.*.log | grep -c "and [1-9][0-9]* deltas after it" || true)
echo "restores $restores, of which $with_deltas replayed deltas after their full snapshot"
[ "$restores" -lt 6 ] || [ "$with_deltas" -ge 1 ] || e2e_fail "no restore replayed a delta"
