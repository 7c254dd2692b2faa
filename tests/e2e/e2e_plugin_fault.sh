#!/usr/bin/env bash
# A plugin that takes the process down (docs/plugins.md, trust model):
#  1. a segfault in on_event: the process dies with SIGSEGV (status 139)
#     after one line naming the plugin, the callback and the event;
#  2. exit(0) in on_event: the process does not report success — it names
#     the plugin and callback and exits 70;
#  3. the segfault and the exit(0) again with processing.threads 3, on an
#     event of partition 1, whose task always runs on the second worker
#     thread: the line names what that thread ran (each thread records its
#     own callback; exit()'s check runs on the thread that called it).
# After each, a restart with the good plugin set restores the checkpoint
# taken before the fault and finishes with results identical to a clean run.
#
# usage: e2e_plugin_fault.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR TEST_PLUGIN_DIR
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3 TEST_PLUGIN_DIR=$4
. "$SRC/tests/e2e/lib.sh"
PROTO=$SRC/proto
WORK=$(mktemp -d)
BROKER_PID=
declare -A RUN_PID=()
cleanup() {
  local rc=$? p
  for p in "${RUN_PID[@]}"; do kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  if [ -n "${KS_E2E_KEEP:-}" ]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT

"$KPISTREAM" broker --partitions 2 --bootstrap-file "$WORK/bootstrap" --exit-after 280 \
  > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
BS=$(cat "$WORK/bootstrap")

# Input in two parts around one event of queue "boom" (the fault's trigger),
# so a faulty run can checkpoint part A before it meets the event.
simulate() { # simulate START PART
  "$KPISTREAM" simulate --bootstrap-file "$WORK/bootstrap" --seed 9 --speed max --duration 30m \
    --start "$1" --log-level warn > "$WORK/sim$2.log" 2>&1 || { cat "$WORK/sim$2.log"; e2e_fail "simulate"; }
}
simulate 2026-11-23T08:00:00Z A
encode_event "$PROTO" 'event_id: "boom1" event_time_ms: 1795422600000 tenant: "acme"
  channel: CHANNEL_VOICE contact_id: "boom-c1" queue: "boom" contact_queued {}' "$WORK/boom.bin"
encode_event "$PROTO" 'event_id: "boom2" event_time_ms: 1795422600000 tenant: "globex"
  channel: CHANNEL_VOICE contact_id: "boom-c2" queue: "boom2" contact_queued {}' "$WORK/boom2.bin"
part_b() {
  kcat -P -b "$BS" -t events.voice -p 0 -k acme "$WORK/boom.bin"
  kcat -P -b "$BS" -t events.voice -p 1 -k globex "$WORK/boom2.bin"
  simulate 2026-11-23T08:30:00Z B
}

config() { # config GROUP SUFFIX COUNTER_OPTIONS [THREADS]
  cat <<YAML
processing: {threads: ${4:-1}}
kafka:
  consumer: {group.id: $1, session.timeout.ms: 6000, fetch.wait.max.ms: 50}
input: {topics: [events.voice, events.email, events.chat, events.agent]}
intervals: {length: 15m, allowed_lateness: 30s, idle_timeout: 0s}
checkpoint: {interval: 100ms}
plugin_dir: $PLUGIN_DIR
plugins:
  - {name: operations, topic: kpi.operations.$2}
  - {name: counter, path: $TEST_PLUGIN_DIR/counter.so, topic: kpi.counter.$2, options: {$3}}
stats_interval: 200ms
YAML
}
finish() { # finish NAME GROUP SUFFIX — a bounded run with the good plugins, must exit 0
  config "$2" "$3" "" > "$WORK/$1.yaml"
  timeout 120 "$KPISTREAM" run -c "$WORK/$1.yaml" --bootstrap-file "$WORK/bootstrap" --until-eof \
    > "$WORK/$1.log" 2>&1 || { tail -20 "$WORK/$1.log"; e2e_fail "run $1 exited $?"; }
}
latest() { # latest SUFFIX — per key the latest result of both plugins' topics
  "$KPISTREAM" dump --bootstrap-file "$WORK/bootstrap" "kpi.operations.$1" "kpi.counter.$1" \
    2> /dev/null > "$WORK/$1.dump" || e2e_fail "dump of $1 failed"
  latest_by_key "$WORK/$1.dump" | cut -f1,3- > "$WORK/$1.latest"
}

# fault_start NAME OPTIONS [THREADS] — a live run with the faulty option; returns
# once it has checkpointed and committed part A (before the event).
fault_start() {
  config "$1" "$1" "$2" "${3:-1}" > "$WORK/$1.yaml"
  "$KPISTREAM" run -c "$WORK/$1.yaml" --bootstrap-file "$WORK/bootstrap" > "$WORK/$1.log" 2>&1 &
  RUN_PID[$1]=$!
  local deadline=$((SECONDS + 60))
  until grep -q 'commits [1-9]' "$WORK/$1.log"; do
    [ $SECONDS -lt $deadline ] || { tail "$WORK/$1.log"; e2e_fail "$1: no commit of part A"; }
    kill -0 "${RUN_PID[$1]}" 2>/dev/null || { tail "$WORK/$1.log"; e2e_fail "$1 ended early"; }
    sleep 0.1
  done
}
# fault_end NAME WANT_STATUS WANT_LINE — it met the event: died with that status and line.
fault_end() {
  local rc=0 pid=${RUN_PID[$1]}
  timeout 60 tail --pid="$pid" -f /dev/null || e2e_fail "$1: the run did not die at the event"
  wait "$pid" || rc=$?
  unset "RUN_PID[$1]"
  [ "$rc" -eq "$2" ] || { tail -20 "$WORK/$1.log"; e2e_fail "$1: exit status $rc, want $2"; }
  grep -q "$3" "$WORK/$1.log" || { tail -20 "$WORK/$1.log"; e2e_fail "$1: no line '$3'"; }
  echo "$1: exit status $rc, $(grep -m1 "^kpistream: " "$WORK/$1.log")"
}

fault_start segv 'crash_queue: boom'
fault_start exit 'exit_queue: boom'
fault_start segv2 'crash_queue: boom2' 3
fault_start exit2 'exit_queue: boom2' 3
part_b
fault_end segv 139 \
  "^kpistream: fatal signal SIGSEGV in plugin counter, callback on_event at events.voice \[0\] offset [0-9]*; re-raised"
fault_end segv2 139 \
  "^kpistream: fatal signal SIGSEGV in plugin counter, callback on_event at events.voice \[1\] offset [0-9]*; re-raised"
fault_end exit2 70 \
  "^kpistream: exit() called in plugin counter, callback on_event at events.voice \[1\] offset [0-9]*; a plugin must not end the process: exiting with status 70"
fault_end exit 70 \
  "^kpistream: exit() called in plugin counter, callback on_event at events.voice \[0\] offset [0-9]*; a plugin must not end the process: exiting with status 70"

finish clean clean clean
latest clean
n=$(wc -l < "$WORK/clean.latest")
[ "$n" -gt 100 ] || e2e_fail "the clean run published only $n results"
grep -q "^counter/events|acme|voice|boom|||1795422600000	" "$WORK/clean.latest" ||
  e2e_fail "the clean run did not count the boom event"
for f in segv exit; do
  finish "$f.restart" "$f" "$f"
  grep -q "task 0: restored checkpoint" "$WORK/$f.restart.log" ||
    { grep runner "$WORK/$f.restart.log" | head; e2e_fail "$f: the restart restored nothing"; }
  latest "$f"
  if ! cmp -s "$WORK/clean.latest" "$WORK/$f.latest"; then
    diff "$WORK/clean.latest" "$WORK/$f.latest" | head
    e2e_fail "$f: results after the restart differ from the clean run"
  fi
  echo "$f: restart restored, $(wc -l < "$WORK/$f.latest") results identical to the clean run"
done
