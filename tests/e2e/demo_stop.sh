#!/usr/bin/env bash
# The demo stops at once on Ctrl-C (issue 14): scripts/demo.sh runs in a
# session of its own and gets SIGINT the way a terminal sends it, to its whole
# foreground process group. Checks: it exits 0 within 10 s (issue's target:
# 3 s; the measured time is printed), no ERROR line in any log, no process of
# the demo left. Then a second run gets two SIGINTs back to back: it exits
# 130 at once and nothing is left either.
# usage: demo_stop.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3
. "$SRC/tests/e2e/lib.sh"
WORK=$(mktemp -d)
DEMO_PID=
cleanup() {
  [ -n "$DEMO_PID" ] && kill -KILL -- "-$DEMO_PID" 2>/dev/null || true
  for f in "$WORK"/d*/pids; do [ -f "$f" ] && kill -KILL $(cat "$f") 2>/dev/null || true; done
  rm -rf "$WORK"
  true
}
trap cleanup EXIT

start_demo() { # start_demo DIR
  # as a terminal starts it: a session of its own, SIGINT not ignored (bash
  # ignores it in the jobs it starts in the background, and so would the demo)
  KS_DEMO_BIN=$KPISTREAM KS_DEMO_PLUGINS=$PLUGIN_DIR KS_DEMO_DIR=$1 python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execvp("bash", ["bash", sys.argv[1]])' "$SRC/scripts/demo.sh" > "$1.out" 2>&1 < /dev/null &
  DEMO_PID=$!
  wait_until 60 "the demo's kpistream to be assigned its partitions" \
    grep -qs "assigned [0-9]* partitions" "$1/kpistream.log"
}
left() { # the demo's processes still alive
  local n=0
  for p in $(cat "$1/pids"); do kill -0 "$p" 2>/dev/null && n=$((n + 1)); done
  echo $n
}

# 1. one Ctrl-C
start_demo "$WORK/d1"
sleep 3 # results flowing
T0=$(date +%s%N)
kill -INT -- "-$DEMO_PID"
rc=0
wait_until 30 "the demo to stop" bash -c "! kill -0 $DEMO_PID 2>/dev/null || [ -z \"\$(ps -o stat= -p $DEMO_PID | grep -v Z)\" ]"
wait "$DEMO_PID" || rc=$?
ms=$((($(date +%s%N) - T0) / 1000000))
DEMO_PID=
echo "Ctrl-C: the demo stopped in $ms ms (exit $rc)"
[ $rc -eq 0 ] || { cat "$WORK/d1.out"; e2e_fail "the demo exited $rc on Ctrl-C"; }
[ $ms -le 10000 ] || e2e_fail "the demo took $ms ms to stop"
[ "$(left "$WORK/d1")" = 0 ] || e2e_fail "$(left "$WORK/d1") processes of the demo survived"
if grep -l "ERROR" "$WORK"/d1/*.log; then
  grep -h "ERROR" "$WORK"/d1/*.log | head
  e2e_fail "ERROR lines in the demo's logs after Ctrl-C"
fi
grep -q "shutdown: everything delivered" "$WORK/d1/kpistream.log" ||
  { tail "$WORK/d1/kpistream.log"; e2e_fail "kpistream did not stop cleanly"; }

# 2. two Ctrl-C back to back
start_demo "$WORK/d2"
kill -INT -- "-$DEMO_PID"
sleep 0.05
kill -INT -- "-$DEMO_PID" 2>/dev/null || true
rc=0
wait "$DEMO_PID" || rc=$?
DEMO_PID=
sleep 0.5 # let the kernel reap what was killed
[ "$(left "$WORK/d2")" = 0 ] || e2e_fail "$(left "$WORK/d2") processes survived two Ctrl-C"
echo "two Ctrl-C: exit $rc, nothing left"
[ $rc -eq 130 ] || [ $rc -eq 0 ] || e2e_fail "two Ctrl-C: exit $rc"
echo "demo stop OK"
