#!/usr/bin/env bash
# A plugin callback that returns an error, under each plugins[].on_error
# policy (docs/plugins.md):
#  1. skip (the default): counted, logged, the event dead-lettered with the
#     plugin's name and error in its headers; the other plugin's results are
#     complete and checkpoints and commits go on, so the next run restores
#     and reads nothing.
#  2. skip, an error on every 100th event: the run still checkpoints and
#     commits (before the fix: 0 checkpoints, 0 commits, and the next run
#     re-read everything).
#  3. stop: the run stops non-zero naming plugin, callback, topic, partition
#     and offset; nothing from that event on is committed, so a restart (the
#     plugin fixed) re-reads it.
#  4. an error in on_interval_close: skip publishes what the plugin emitted
#     and goes on; stop stops without committing the interval's close.
#  5. 2 and 3 with processing.threads 2, the one partition's task on the
#     worker thread: the same dead letters (produced by the loop thread after
#     each drain) and results; stop stops at the same event.
#
# usage: e2e_plugin_error.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR TEST_PLUGIN_DIR
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3 TEST_PLUGIN_DIR=$4
. "$SRC/tests/e2e/lib.sh"
PROTO=$SRC/proto

WORK=$(mktemp -d)
BROKER_PID=
cleanup() {
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  [ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

"$KPISTREAM" broker --partitions 1 --bootstrap-file "$WORK/bootstrap" --exit-after 280 \
  > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
BS=$(cat "$WORK/bootstrap")

# 8 events: queue "sales" except the 5th (offset 4), in queue "bad"
T=1795428000000
for i in 0 1 2 3 4 5 6 7; do
  q=sales
  [ $i -eq 4 ] && q=bad
  encode_event "$PROTO" "event_id: \"e$i\" event_time_ms: $((T + i * 60000)) tenant: \"acme\"
    channel: CHANNEL_VOICE contact_id: \"c$i\" queue: \"$q\" contact_queued {}" \
    "$WORK/$(printf 'ev%02d.bin' $i)"
done
kcat -P -b "$BS" -t events.voice -k acme "$WORK"/ev*.bin

config() { # config GROUP TOPIC_SUFFIX COUNTER_OPTIONS [ON_ERROR]; THREADS: processing.threads
  cat <<YAML
processing: {threads: ${THREADS:-1}}
kafka:
  consumer: {group.id: $1, session.timeout.ms: 6000, fetch.wait.max.ms: 50}
input: {topics: [events.voice], dead_letter_topic: dlq.$1}
intervals: {length: 15m, allowed_lateness: 0s}
checkpoint: {interval: 50ms}
plugin_dir: $PLUGIN_DIR
plugins:
  - {name: operations, topic: kpi.operations$2}
  - {name: counter, path: $TEST_PLUGIN_DIR/counter.so, topic: kpi.counter$2, options: {$3}${4:+, on_error: $4}}
stats_interval: 0s
YAML
}
run() { # run NAME GROUP TOPIC_SUFFIX COUNTER_OPTIONS [ON_ERROR] — must exit 0
  config "$2" "$3" "$4" "${5:-}" > "$WORK/$1.yaml"
  timeout 120 "$KPISTREAM" run -c "$WORK/$1.yaml" --bootstrap-file "$WORK/bootstrap" --until-eof \
    > "$WORK/$1.log" 2>&1 || { cat "$WORK/$1.log"; e2e_fail "run $1 exited $?"; }
}
run_fails() { # the same, but the run must stop with a non-zero status; prints it
  config "$2" "$3" "$4" "${5:-}" > "$WORK/$1.yaml"
  local rc=0
  timeout 120 "$KPISTREAM" run -c "$WORK/$1.yaml" --bootstrap-file "$WORK/bootstrap" --until-eof \
    > "$WORK/$1.log" 2>&1 || rc=$?
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || { cat "$WORK/$1.log"; e2e_fail "run $1 exited $rc"; }
  echo "$rc"
}
summary() { grep "runner: stopped:" "$WORK/$1.log"; }
field() { # field NAME WORD — the number before WORD's value in the summary ("events 8")
  summary "$1" | sed -n "s/.*[ (]$2 \([0-9]*\).*/\1/p"
}

# 1. skip (default): the event at offset 4 fails in counter only.
run skip1 perr "" 'fail_queue: bad'
grep -q "counter: on_event failed with -1004 at events.voice \[0\] offset 4" "$WORK/skip1.log" ||
  { cat "$WORK/skip1.log"; e2e_fail "the plugin error was not logged with its offset"; }
summary skip1 | grep -q "stopped: events 8, .*(dead-lettered 1),.* plugin errors 1," ||
  { summary skip1; e2e_fail "run skip1 summary: not 8 events, 1 dead letter, 1 plugin error"; }
[ "$(field skip1 checkpoints)" -ge 1 ] && [ "$(field skip1 commits)" -ge 1 ] ||
  { summary skip1; e2e_fail "run skip1 did not checkpoint and commit"; }
# the dead letter: the original event, with the plugin and its error
kcat -C -b "$BS" -t dlq.perr -o beginning -e -q -f '%h\n' > "$WORK/dlq1.txt"
[ "$(wc -l < "$WORK/dlq1.txt")" -eq 1 ] || { cat "$WORK/dlq1.txt"; e2e_fail "not 1 dead letter"; }
grep -q 'kpistream.plugin=counter' "$WORK/dlq1.txt" ||
  { cat "$WORK/dlq1.txt"; e2e_fail "dead letter without kpistream.plugin=counter"; }
grep -q 'kpistream.reason=plugin counter: on_event failed with -1004' "$WORK/dlq1.txt" ||
  { cat "$WORK/dlq1.txt"; e2e_fail "dead letter reason does not name plugin, callback and error"; }
grep -q 'kpistream.source.offset=4' "$WORK/dlq1.txt" || e2e_fail "dead letter source offset"
kcat -C -b "$BS" -t dlq.perr -o beginning -e -q -f '%s' > "$WORK/dlq1.bin"
cmp -s "$WORK/dlq1.bin" "$WORK/ev04.bin" || e2e_fail "the dead letter is not the original event"
# isolation: operations saw all 8 offered (7 sales + 1 bad)
n_ops=$(dump_topic "$BS" kpi.operations "$WORK/ops1")
decode_results "$PROTO" "$WORK/ops1" > "$WORK/ops1.txt"
grep -q '^operations/offered|acme|voice|bad|||1795428000000 1$' "$WORK/ops1.txt" ||
  e2e_fail "operations did not count the event the other plugin failed on"
# committed past the failed event: the next run restores and reads nothing
run skip2 perr "" ''
summary skip2 | grep -q "stopped: events 0, .*restores 1," ||
  { summary skip2; e2e_fail "run skip2 re-read input or did not restore"; }
echo "1. skip: offset 4 dead-lettered with plugin and reason, operations results $n_ops," \
  "checkpoints $(field skip1 checkpoints), commits $(field skip1 commits); next run read 0"

# 2. skip, an error on every 100th event, over ~1300 simulated voice events
"$KPISTREAM" simulate --bootstrap-file "$WORK/bootstrap" --seed 5 --speed max --duration 1h \
  --start "$(date -u -d @$((T / 1000 + 3600)) +%Y-%m-%dT%H:%M:%SZ)" \
  > "$WORK/sim.out" 2> "$WORK/sim.log" || { cat "$WORK/sim.log"; e2e_fail "simulate"; }
END=$(kcat -Q -b "$BS" -t events.voice:0:-1 | awk '{ print $NF }')
# expected errors, independently: the offsets 99, 199, ... whose body counter reads
want=0
for ((o = 99; o < END; o += 100)); do
  kcat -C -b "$BS" -t events.voice -p 0 -o "$o" -c 1 -e -q -f '%s' > "$WORK/o.bin"
  body=$(protoc --decode=kpistream.v1.Event -I "$PROTO" kpistream/v1/events.proto < "$WORK/o.bin" |
    grep -oE '^contact_(queued|answered|abandoned) \{' || true)
  [ -n "$body" ] && want=$((want + 1))
done
[ "$want" -ge 5 ] || e2e_fail "only $want failing events in $END (test input too small)"
run every1 perr100 .e100 'fail_every: 100'
summary every1 | grep -q "stopped: events $END, .*(dead-lettered $want),.* plugin errors $want," ||
  { summary every1; e2e_fail "run every1: want events $END, $want dead letters and plugin errors"; }
ck=$(field every1 checkpoints) cm=$(field every1 commits)
[ "$ck" -ge 1 ] && [ "$cm" -ge 1 ] || { summary every1; e2e_fail "run every1: checkpoints $ck, commits $cm"; }
kcat -C -b "$BS" -t dlq.perr100 -o beginning -e -q -f '%h\n' |
  sed -n 's/.*kpistream.source.offset=\([0-9]*\).*/\1/p' > "$WORK/dlq100.txt"
[ "$(wc -l < "$WORK/dlq100.txt")" -eq "$want" ] && ! awk '($1 + 1) % 100 != 0 { exit 1 }' \
  "$WORK/dlq100.txt" && e2e_fail "dead letters at offsets other than 99, 199, ..."
run every2 perr100 .e100 ''
summary every2 | grep -q "stopped: events 0, .*restores 1," ||
  { summary every2; e2e_fail "run every2 re-read input or did not restore"; }
echo "2. every 100th of $END events fails: $want plugin errors and dead letters," \
  "checkpoints $ck, commits $cm; next run restored and read 0"

# 3. stop: the run stops at offset 4; a restart with the plugin fixed re-reads it.
rc=$(run_fails stop1 perrstop .stop 'fail_queue: bad' stop)
grep -q "plugin counter: on_event failed with -1004 at events.voice \[0\] offset 4 (on_error: stop)" \
  "$WORK/stop1.log" || { cat "$WORK/stop1.log"; e2e_fail "no stop message naming plugin, callback, offset"; }
run stop2 perrstop .stop ''
n2=$(field stop2 events)
[ "$n2" -ge $((END - 4)) ] || { summary stop2; e2e_fail "restart read $n2 of $END: skipped offset 4"; }
"$KPISTREAM" dump --bootstrap-file "$WORK/bootstrap" kpi.counter.stop > "$WORK/stop.dump"
grep -q "^counter/events|acme|voice|bad|||1795428000000	0	1	" "$WORK/stop.dump" ||
  e2e_fail "the restart did not count the event the stop was on"
echo "3. stop: exit $rc at offset 4; the restart re-read $n2 of $END events, the failed one included"

# 4. on_interval_close errors: skip goes on, stop stops without committing the close
run close1 perrclose .close 'fail_close: true'
nclosed=$(field close1 "intervals closed")
summary close1 | grep -q "plugin errors $nclosed, " || { summary close1; e2e_fail "close errors not counted"; }
grep -q "counter: on_interval_close failed with -1004 (task 0, interval 1795428000000;" \
  "$WORK/close1.log" || e2e_fail "close error not logged with task and interval"
[ "$(field close1 commits)" -ge 1 ] || e2e_fail "close errors held the commits"
rc=$(run_fails close2 perrclose2 .close2 'fail_close: true' stop)
grep -q "plugin counter: on_interval_close failed with -1004 at task 0, interval 1795428000000 (on_error: stop)" \
  "$WORK/close2.log" || { cat "$WORK/close2.log"; e2e_fail "no stop message for the close"; }
run close3 perrclose2 .close2 ''
[ "$(field close3 events)" -ge $((END - 8)) ] || { summary close3; e2e_fail "restart after close stop"; }
echo "4. on_interval_close: skip counted $nclosed errors and committed; stop exited $rc, restart re-read"

# 5. on the worker thread
THREADS=2 run everyt perr100t .e100t 'fail_every: 100'
summary everyt | grep -q "stopped: events $END, .*(dead-lettered $want),.* plugin errors $want," ||
  { summary everyt; e2e_fail "run everyt: want events $END, $want dead letters and plugin errors"; }
grep -q "processing.threads 2: messages processed per thread: loop thread 0, worker $END$" \
  "$WORK/everyt.log" || { grep "per thread" "$WORK/everyt.log"; e2e_fail "everyt: not all on the worker"; }
kcat -C -b "$BS" -t dlq.perr100t -o beginning -e -q -f '%h\n' |
  sed -n 's/.*kpistream.source.offset=\([0-9]*\).*/\1/p' > "$WORK/dlq100t.txt"
# (the dead-letter topic's partitions are read one after the other: sorted)
cmp -s <(sort -n "$WORK/dlq100.txt") <(sort -n "$WORK/dlq100t.txt") ||
  e2e_fail "everyt: other dead letters than every1"
for t in counter.e100 operations.e100; do
  "$KPISTREAM" dump --bootstrap-file "$WORK/bootstrap" "kpi.$t" > "$WORK/$t.dump"
  "$KPISTREAM" dump --bootstrap-file "$WORK/bootstrap" "kpi.${t}t" > "$WORK/${t}t.dump"
  latest_by_key "$WORK/$t.dump" | cut -f1,3- > "$WORK/$t.latest"
  latest_by_key "$WORK/${t}t.dump" | cut -f1,3- > "$WORK/${t}t.latest"
  [ -s "$WORK/$t.latest" ] && cmp -s "$WORK/$t.latest" "$WORK/${t}t.latest" ||
    e2e_fail "everyt: kpi.${t}t differs from kpi.$t"
done
rc=$(THREADS=2 run_fails stopt perrstopt .stopt 'fail_queue: bad' stop)
grep -q "plugin counter: on_event failed with -1004 at events.voice \[0\] offset 4 (on_error: stop)" \
  "$WORK/stopt.log" || { cat "$WORK/stopt.log"; e2e_fail "stopt: no stop message naming the offset"; }
grep -q "stopping: a plugin failed (on_error: stop)" "$WORK/stopt.log" || e2e_fail "stopt: no stop"
echo "5. on the worker thread: $want dead letters and the results as with one thread; stop exit $rc"
