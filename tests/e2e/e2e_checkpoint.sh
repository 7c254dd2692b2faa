#!/usr/bin/env bash
# Checkpoints that are reused, damaged or crafted (issue 10, defects 3 and 4),
# end to end on a 3-broker embedded cluster, two plugins (operations,
# experience), one task. The outputs of all the runs below together must equal
# an undisturbed reference run: per key the latest revision identical, and no
# key with two different results under one revision.
#
# Identity. Run A checkpoints to both changelogs; then the leader of the
#   operations changelog (broker 2) goes down, so A's next checkpoint reaches
#   only the experience changelog, and A is killed -9. Run B passes over that
#   partial checkpoint, restores the one before, writes its own next one
#   (before the fix: under the same id as A's partial one) and is killed -9.
#   Run C must restore B's, whole (before the fix it combined B's operations
#   snapshot with A's experience one, including A's input offsets).
# Crafted records in both changelogs: a chunk whose offset + length wraps
#   around 2^64 (format 2, and format 1 as kpistream wrote before; before the
#   fix a heap overflow, an abort in free() on every restart), a header cut
#   short, a newer format. Run D logs each with topic, partition and offset,
#   and restores C's checkpoint.
# The newest checkpoint damaged (its operations chunk again with one byte
#   flipped): run E refuses it and restores the one before.
# Every checkpoint damaged: run F starts the task over from the beginning of
#   its input, with an ERROR, and publishes the same results again.
#
# usage: e2e_checkpoint.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3
. "$SRC/tests/e2e/lib.sh"
for tool in kcat bc; do command -v $tool >/dev/null || e2e_fail "$tool is not installed"; done
WORK=$(mktemp -d)
BROKER_PID= RUN_PID=
cleanup() {
  [ -n "$RUN_PID" ] && kill -9 "$RUN_PID" 2>/dev/null && wait "$RUN_PID" 2>/dev/null
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  if [ -n "${KS_E2E_KEEP:-}" ]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
INPUTS="events.voice events.email events.chat events.agent events.feedback events.business"
GROUP=ckgrp # the mock's group coordinator for it: crc32("ckgrp") % 3 = 2, the third broker
CL_OPS=$GROUP.changelog.operations
CL_EXP=$GROUP.changelog.experience

"$KPISTREAM" broker --brokers 3 --partitions 1 --topic "$CL_OPS:1" --topic "$CL_EXP:1" \
  --topic ref.changelog.operations:1 --topic ref.changelog.experience:1 \
  --bootstrap-file "$WORK/bootstrap" --control "$WORK/ctl" --control-ack "$WORK/ack" \
  --exit-after 450 > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
BS=$(cat "$WORK/bootstrap")
# Every partition led by broker 1, except the operations changelog's (broker 2).
layout=()
for t in $INPUTS kpi.operations kpi.experience kpi.ref.operations kpi.ref.experience \
  kpistream.dlq "$CL_EXP" ref.changelog.operations ref.changelog.experience; do
  layout+=("leader $t 0 1")
done
ctl_sync "${layout[@]}" "leader $CL_OPS 0 2"

# Input: 4 simulated hours, 2 tenants, one partition per topic (one task).
"$KPISTREAM" simulate --bootstrap-file "$WORK/bootstrap" --seed 21 --tenants 2 --duration 4h \
  --speed max -X batch.num.messages=1 -X linger.ms=0 --log-level warn > "$WORK/sim.log" 2>&1 ||
  { cat "$WORK/sim.log"; e2e_fail "simulate failed"; }

config() { # config GROUP OUTPUT_PREFIX CHECKPOINT_INTERVAL EXTRA_CONSUMER_PROPERTIES
  cat <<YAML
kafka:
  consumer: {group.id: $1, session.timeout.ms: 6000, fetch.wait.max.ms: 50$4}
input:
  topics: [${INPUTS// /, }]
  dead_letter_topic: kpistream.dlq
intervals: {length: 15m, allowed_lateness: 2m}
checkpoint: {interval: $3}
plugin_dir: $PLUGIN_DIR
plugins: # operations last: its snapshot's input offsets are the ones a restore keeps
  - {name: experience, topic: $2.experience}
  - {name: operations, topic: $2.operations}
stats_interval: 100ms
YAML
}
config ref kpi.ref 5s "" > "$WORK/ref.yaml"
# Small fetches: runs A and B are still consuming when they are interrupted.
# B checkpoints less often than A, so its checkpoint is further into the
# input than A's partial one with the same id (before the fix, C took B's
# operations snapshot, its offsets, and A's earlier experience state).
SLOW=", max.partition.fetch.bytes: 1, fetch.max.bytes: 1000, message.max.bytes: 1000"
config $GROUP kpi 1s "$SLOW" > "$WORK/A.yaml"
config $GROUP kpi 5s "$SLOW" > "$WORK/B.yaml"
config $GROUP kpi 0s "" > "$WORK/run.yaml" # checkpoints only at the end

timeout 120 "$KPISTREAM" run -c "$WORK/ref.yaml" --bootstrap-file "$WORK/bootstrap" --until-eof \
  > "$WORK/ref.log" 2>&1 || { tail -20 "$WORK/ref.log"; e2e_fail "reference run failed"; }
EVENTS=$(sed -n 's/.*stopped: events \([0-9]*\),.*/\1/p' "$WORK/ref.log")
[ "${EVENTS:-0}" -gt 2000 ] || e2e_fail "reference run read ${EVENTS:-0} events"

count() { kcat -C -b "$BS" -t "$1" -o beginning -e -q -f 'x\n' 2>/dev/null | wc -l; }
run() { # run NAME — the group's run to the end of its input; fails on a non-zero exit
  timeout 120 "$KPISTREAM" run -c "$WORK/run.yaml" --bootstrap-file "$WORK/bootstrap" \
    --until-eof > "$WORK/$1.log" 2>&1 || { tail -30 "$WORK/$1.log"; e2e_fail "run $1 exited $?"; }
}
restored() { sed -n 's/.*task 0: restored checkpoint \([0-9.]*\);.*/\1/p' "$WORK/$1.log"; }

# 1. Run A: a checkpoint in both changelogs, then broker 2 down, then killed.
ctl_sync "rtt 1 1" "rtt 2 1" "rtt 3 1"
start_paced() { # start_paced NAME — a slow run of the group in the background
  "$KPISTREAM" run -c "$WORK/$1.yaml" --bootstrap-file "$WORK/bootstrap" --until-eof \
    > "$WORK/$1.log" 2>&1 &
  RUN_PID=$!
  RUN_NAME=$1
}
kill_run() {
  kill -9 $RUN_PID
  wait $RUN_PID 2>/dev/null || true
  RUN_PID=
  if grep -q "stopped:" "$WORK/$RUN_NAME.log"; then e2e_fail "run $RUN_NAME ended before it was killed"; fi
}
alive() { kill -0 $RUN_PID 2>/dev/null || { tail -20 "$WORK/$RUN_NAME.log"; e2e_fail "run $RUN_NAME ended early"; }; }
start_paced A
# A commit follows the acknowledgement of a whole checkpoint, every chunk of
# every plugin: the stats line's "commits N" counts complete checkpoints.
committed() { alive && grep -q "runner: events .*, commits [1-9]" "$WORK/$RUN_NAME.log"; }
wait_until 60 "run A's first checkpoint in both changelogs" committed
o=$(count "$CL_EXP")
ctl_sync "down 2"
# The next checkpoint reaches the experience changelog only; the ones after it
# wait for it (barriers complete in order). The operations changelog cannot
# be read while its leader is down: one checkpoint may have reached both
# between the count and the fault, so a bounded wait of two checkpoint
# intervals lets the blocked one reach the experience changelog.
ahead() { alive && [ "$(count "$CL_EXP")" -gt "$o" ]; }
wait_until 60 "a checkpoint of run A in $CL_EXP" ahead
sleep 2
alive
kill_run
ctl_sync "up 2"
echo "run A: checkpoints in both changelogs, then one only in $CL_EXP, killed -9"

# 2. Run B: restores the checkpoint before A's partial one, writes its own
# next one (the id of A's partial one, in another epoch), killed -9.
start_paced B
wait_until 60 "run B's first checkpoint in both changelogs" committed
kill_run
ctl_sync "rtt 1 0" "rtt 2 0" "rtt 3 0"
grep -q "WARN  checkpoint: checkpoint 1\.[0-9]* (instance [0-9a-f]*) of task 0 is not usable in changelog $CL_OPS \[0\]: absent; trying an older one" "$WORK/B.log" ||
  { grep checkpoint "$WORK/B.log"; e2e_fail "run B did not pass over run A's partial checkpoint"; }
A_CKPT=$(restored B)
B_EPOCH=$(sed -n 's/.*task 0: restored checkpoint [0-9.]*; writing epoch \([0-9]*\).*/\1/p' "$WORK/B.log")
[ -n "$A_CKPT" ] && [ "${B_EPOCH:-0}" -ge 2 ] || { grep checkpoint "$WORK/B.log"; e2e_fail "run B restored nothing"; }
echo "run B: passed over A's partial checkpoint, restored $A_CKPT, wrote one of epoch $B_EPOCH, killed -9"

# 3. Run C: B's checkpoint, whole; the rest of the input from its offsets.
run C
case "$(restored C)" in
  "$B_EPOCH".*) ;;
  *) grep checkpoint "$WORK/C.log"; e2e_fail "run C did not restore run B's checkpoint (epoch $B_EPOCH)" ;;
esac
echo "run C: restored run B's checkpoint $(restored C), read the rest of the input"

# 4. Crafted records (fields little-endian, written with printf escapes).
le() { # le BYTES VALUE — VALUE (decimal, < 2^64) as BYTES little-endian bytes
  local v=$2 i out=
  for ((i = 0; i < $1; i++)); do
    out+=$(printf '\\x%02x' "$(echo "$v % 256" | bc)")
    v=$(echo "$v / 256" | bc)
  done
  printf '%s' "$out"
}
WRAP=18446744073709551600 # 2^64 - 16
bytes32=$(printf '\\xee%.0s' $(seq 32))
# format 2: magic, format, epoch, nonce, id, task, chunk, n_chunks, offset, total, crc, bytes
printf "SKCK$(le 4 2)$(le 8 1)$(le 8 7)$(le 8 99)$(le 4 0)$(le 4 0)$(le 4 1)$(le 8 $WRAP)$(le 8 64)$(le 4 0)$bytes32" > "$WORK/wrap2.bin"
# format 1: magic, format, id, task, chunk, n_chunks, offset, total, bytes
printf "SKCK$(le 4 1)$(le 8 99)$(le 4 0)$(le 4 0)$(le 4 1)$(le 8 $WRAP)$(le 8 64)$bytes32" > "$WORK/wrap1.bin"
printf "SKCK$(le 4 2)$(le 8 1)" > "$WORK/short.bin"
printf "SKCK$(le 4 9)$(le 8 1)$(le 8 1)$(le 8 1)" > "$WORK/future.bin"
for t in "$CL_OPS" "$CL_EXP"; do
  kcat -P -b "$BS" -t "$t" -p 0 -k task/0/chunk/0 "$WORK/wrap2.bin" "$WORK/wrap1.bin" \
    "$WORK/short.bin" "$WORK/future.bin"
done
run D
for t in "$CL_OPS" "$CL_EXP"; do
  grep -q "ERROR checkpoint: changelog $t \[0\] offset [0-9]*: checkpoint 1.99 (instance 0000000000000007) of task 0: chunk 0 of 1 at byte $WRAP with 32 bytes does not fit its 64-byte snapshot; record ignored" "$WORK/D.log" ||
    { grep checkpoint "$WORK/D.log"; e2e_fail "run D did not refuse the format-2 wrap-around chunk in $t"; }
  grep -q "changelog $t \[0\] offset [0-9]*: checkpoint 99 (format 1) of task 0: chunk 0 of 1 at byte $WRAP" "$WORK/D.log" ||
    e2e_fail "run D did not refuse the format-1 wrap-around chunk in $t"
  grep -q "changelog $t \[0\] offset [0-9]*: checkpoint record of 16 bytes, shorter than its 64-byte header" "$WORK/D.log" ||
    e2e_fail "run D did not refuse the short record in $t"
  grep -q "changelog $t \[0\] offset [0-9]*: checkpoint record format 9; this build reads formats 1 to 3" "$WORK/D.log" ||
    e2e_fail "run D did not refuse the format-9 record in $t"
done
case "$(restored D)" in
  "$((B_EPOCH + 1))".*) ;;
  *) grep checkpoint "$WORK/D.log"; e2e_fail "run D did not restore run C's checkpoint" ;;
esac
grep -q "stopped: events 0," "$WORK/D.log" || e2e_fail "run D re-read input"
echo "run D: 8 crafted records refused with their offsets, restored run C's $(restored D)"

dump_records() { # dump_records TOPIC DIR — each record of partition 0 into DIR/NNNN.bin, prints
  # how many (one kcat per offset: lib.sh's dump_topic pipes large values through head)
  local i n
  n=$(count "$1")
  mkdir -p "$2"
  for ((i = 0; i < n; i++)); do
    kcat -C -b "$BS" -t "$1" -p 0 -o $i -c 1 -e -q -f '%s' > "$(printf '%s/%04d.bin' "$2" $i)"
  done
  echo "$n"
}

flip() { # flip FILE OUT — OUT is FILE with its last byte changed
  local size byte
  size=$(stat -c %s "$1")
  cp "$1" "$2"
  byte=$(od -An -tu1 -j $((size - 1)) -N1 "$1" | tr -d ' ')
  printf "$(printf '\\x%02x' $((byte ^ 1)))" | dd of="$2" bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
}

# 5. The newest checkpoint (D's last; every run writes two at its end: at
# its stop and at its revocation) damaged: its operations chunk again with
# one byte flipped. Refused, and the one before restored.
n=$(dump_records "$CL_OPS" "$WORK/ops3")
flip "$(printf '%s/%04d.bin' "$WORK/ops3" $((n - 1)))" "$WORK/flip.bin"
kcat -P -b "$BS" -t "$CL_OPS" -p 0 -k task/0/chunk/0 "$WORK/flip.bin"
run E
R=$(sed -n "s/.*ERROR checkpoint: changelog $CL_OPS \[0\] offset $n: checkpoint \([0-9.]*\) (instance [0-9a-f]*) of task 0 refused: chunk [0-9]* appears twice with different content (offsets $((n - 1)) and $n).*/\1/p" "$WORK/E.log")
S=$(restored E)
[ -n "$R" ] || { grep checkpoint "$WORK/E.log"; e2e_fail "run E did not refuse the damaged checkpoint"; }
[ -n "$S" ] && [ "$S" != "$R" ] && [ "$(printf '%s\n' "$S" "$R" | sort -V | head -1)" = "$S" ] ||
  { grep checkpoint "$WORK/E.log"; e2e_fail "run E did not fall back to an older checkpoint"; }
grep -q "stopped: events 0," "$WORK/E.log" || e2e_fail "run E re-read input"
echo "run E: the newest checkpoint $R refused (offset $n), the one before, $S, restored"

# 6. Every checkpoint damaged the same way: no usable checkpoint, start over.
dump_records "$CL_OPS" "$WORK/ops4" > /dev/null
for f in "$WORK"/ops4/*.bin; do
  # format 2 ("SKCK", 2) and more than a header
  [ "$(head -c 8 "$f" | od -An -tu1 | tr -s ' ')" = " 83 75 67 75 2 0 0 0" ] || continue
  [ "$(stat -c %s "$f")" -gt 200 ] || continue
  flip "$f" "$f.flip"
  kcat -P -b "$BS" -t "$CL_OPS" -p 0 -k task/0/chunk/0 "$f.flip"
done
run F
grep -q "ERROR runner: task 0: changelog of task 0 holds [0-9]* checkpoint records but no checkpoint complete and valid in every plugin's changelog.*; starting the task over from the beginning of its input partitions with empty state" "$WORK/F.log" ||
  { grep -i "checkpoint\|task 0" "$WORK/F.log" | head -20; e2e_fail "run F did not start over"; }
grep -q "stopped: events $EVENTS," "$WORK/F.log" || { tail -3 "$WORK/F.log"; e2e_fail "run F did not read all $EVENTS events"; }
echo "run F: no usable checkpoint, started over and read all $EVENTS events"

# The outputs of runs A..F together against the reference run's.
for fam in operations experience; do
  "$KPISTREAM" dump --bootstrap-file "$WORK/bootstrap" kpi.ref.$fam > "$WORK/ref.$fam.dump"
  "$KPISTREAM" dump --bootstrap-file "$WORK/bootstrap" kpi.$fam > "$WORK/run.$fam.dump"
  check_no_conflicts "$WORK/ref.$fam.dump"
  check_no_conflicts "$WORK/run.$fam.dump"
  latest_by_key "$WORK/ref.$fam.dump" | cut -f1,3- > "$WORK/ref.$fam.latest"
  latest_by_key "$WORK/run.$fam.dump" | cut -f1,3- > "$WORK/run.$fam.latest"
  [ -s "$WORK/ref.$fam.latest" ] || e2e_fail "the reference run published no $fam results"
  if ! diff -q "$WORK/ref.$fam.latest" "$WORK/run.$fam.latest" > /dev/null; then
    diff "$WORK/ref.$fam.latest" "$WORK/run.$fam.latest" | head -10
    e2e_fail "$fam results differ from the reference run's"
  fi
  echo "$fam: $(wc -l < "$WORK/ref.$fam.latest") keys, latest revisions identical, no conflicts"
done
