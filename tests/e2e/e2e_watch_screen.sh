#!/usr/bin/env bash
# `kpistream watch` on a terminal (a pty from python3's pty module, at 80 and
# 132 columns) against the embedded broker with a few results encoded by
# protoc: it enters the alternate screen, redraws with cursor-home and
# erase sequences, never writes a line wider than the terminal, drops the
# lowest-priority operations columns at 80 columns, and gives the terminal
# back (cursor shown, normal screen) on --exit-after-intervals and on
# SIGTERM. Piped (not a terminal), the same results come out as lines with
# no escape sequence and every column.
# usage: e2e_watch_screen.sh KPISTREAM_BINARY SOURCE_DIR
set -euo pipefail
KPISTREAM=$1 SRC=$2
. "$SRC/tests/e2e/lib.sh"
WORK=$(mktemp -d)
BROKER_PID=
cleanup() {
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

"$KPISTREAM" broker --partitions 1 --bootstrap-file "$WORK/bootstrap" --exit-after 240 \
  > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
BS=$(cat "$WORK/bootstrap")

# acme, two intervals (10:00 and 10:15 on 2026-11-23), voice/billing and the
# all row, every operations headline metric; one fired alert.
T10=1795428000000 Q=900000
n=0
result() { # START CHANNEL QUEUE METRIC UNIT VALUE
  n=$((n + 1))
  printf 'family: "operations" metric: "%s" tenant: "acme" interval_start_ms: %s
interval_end_ms: %s channel: %s queue: "%s" value: %s unit: "%s"\n' \
    "$4" "$1" $(($1 + Q)) "$2" "$3" "$6" "$5" |
    protoc --encode=kpistream.v1.MetricResult -I "$SRC/proto" kpistream/v1/result.proto \
      > "$WORK/r$(printf %03d $n).bin"
}
for start in $T10 $((T10 + Q)); do
  for row in "CHANNEL_VOICE billing" "CHANNEL_UNSPECIFIED "; do
    set -- $row
    ch=$1 q=${2:-}
    result "$start" "$ch" "$q" offered contacts 120
    result "$start" "$ch" "$q" answered contacts 110
    result "$start" "$ch" "$q" abandoned contacts 10
    result "$start" "$ch" "$q" abandonment_rate ratio 0.083
    result "$start" "$ch" "$q" asa seconds 23.4
    result "$start" "$ch" "$q" longest_wait seconds 181
    result "$start" "$ch" "$q" service_level ratio 0.812
    result "$start" "$ch" "$q" aht seconds 312.5
    result "$start" "$ch" "$q" fcr ratio 0.71
    result "$start" "$ch" "$q" transfer_rate ratio 0.055
  done
done
kcat -P -b "$BS" -t kpi.operations "$WORK"/r*.bin
printf 'family: "scorecard" metric: "alert" tenant: "acme" interval_start_ms: %s
interval_end_ms: %s channel: CHANNEL_VOICE queue: "support" value: 0.72 unit: "ratio"
labels { key: "kpi" value: "service_level" } labels { key: "rule" value: "service_level<0.8" }
labels { key: "state" value: "fire" }\n' $T10 $((T10 + Q)) |
  protoc --encode=kpistream.v1.MetricResult -I "$SRC/proto" kpistream/v1/result.proto \
    > "$WORK/alert.bin"
kcat -P -b "$BS" -t kpi.alerts "$WORK/alert.bin"

WATCH=("$KPISTREAM" watch --bootstrap-file "$WORK/bootstrap" -t kpi.operations -t kpi.alerts
  --from-beginning)
ESC=$'\e'

# check_width OUT COLS [FROM] — no line wider than COLS (from the frame where
# the text FROM first appears, when given)
check_width() {
  python3 - "$@" <<'PY' || e2e_fail "$1: see above"
import re, sys
data = open(sys.argv[1], "rb").read().decode("utf-8")
cols = int(sys.argv[2])
if len(sys.argv) > 3:
    at = data.find(sys.argv[3])
    if at < 0:
        sys.exit("%r never appears" % sys.argv[3])
    data = data[data.rfind("\x1b[H", 0, at):]
# cursor home (a new frame) and leaving the alternate screen (the cursor
# back where it was on the normal screen) start a line again
data = data.replace("\x1b[H", "\n").replace("\x1b[?1049l", "\n")
text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", data)
for line in re.split(r"\r?\n|\r", text):
    if len(line) > cols:
        sys.exit("line of %d columns on a %d-column terminal: %r" % (len(line), cols, line))
PY
}

# check_screen OUT COLS — the escape sequences, no line wider than COLS, the tables
check_screen() {
  local out=$1 cols=$2 seq
  for seq in "$ESC[?1049h" "$ESC[?25l" "$ESC[H" "$ESC[K" "$ESC[J" "$ESC[?25h" "$ESC[?1049l"; do
    grep -qaF -- "$seq" "$out" || e2e_fail "$out: no ${seq#"$ESC"} sequence"
  done
  # leaving (cursor shown, normal screen) comes after the last frame drawn
  python3 - "$out" <<'PY' || e2e_fail "$out: see above"
import sys
data = open(sys.argv[1], "rb").read()
if data.rfind(b"\x1b[?1049l") < data.rfind(b"\x1b[H"):
    sys.exit("the last frame was drawn after leaving the alternate screen")
PY
  check_width "$out" "$cols"
  grep -qaF "── operations" "$out" || e2e_fail "$out: no operations table"
  grep -qaF "voice    billing      120" "$out" || e2e_fail "$out: no voice/billing row"
  grep -qaF "ALERT fired   acme voice/support service_level 72.0% < 80.0%" "$out" ||
    e2e_fail "$out: no alert line"
}

# 80 columns, stopping after the two intervals: AHT, FCR, xfer% do not fit
rc=0
python3 "$SRC/tests/e2e/pty_run.py" 80 24 "$WORK/screen80.out" -- "${WATCH[@]}" \
  --exit-after-intervals 2 --exit-after 60s 2> "$WORK/watch80.log" || rc=$?
[ "$rc" -eq 0 ] || { cat "$WORK/watch80.log"; e2e_fail "watch at 80 columns exited $rc"; }
check_screen "$WORK/screen80.out" 80
grep -qaF "max wait     SL" "$WORK/screen80.out" || e2e_fail "80 columns: no SL column"
! grep -qaE "AHT|xfer%" "$WORK/screen80.out" || e2e_fail "80 columns: AHT or xfer% shown"
grep -qaF "acme · 2026-11-23 10:15–10:30 UTC" "$WORK/screen80.out" ||
  e2e_fail "80 columns: the latest interval (10:15) not shown"

# 132 columns, stopped by SIGTERM once the latest interval is on the screen: every column
rc=0
python3 "$SRC/tests/e2e/pty_run.py" 132 40 "$WORK/screen132.out" --term-on "10:15–10:30 UTC" \
  -- "${WATCH[@]}" --mode=screen 2> "$WORK/watch132.log" || rc=$?
[ "$rc" -eq 0 ] || { cat "$WORK/watch132.log"; e2e_fail "watch at 132 columns exited $rc"; }
check_screen "$WORK/screen132.out" 132
grep -qaF "max wait     SL     AHT    FCR  xfer%" "$WORK/screen132.out" ||
  e2e_fail "132 columns: not every operations column"

# resized from 132 to 80 columns (SIGWINCH): the next frame fits 80 columns
rc=0
python3 "$SRC/tests/e2e/pty_run.py" 132 40 "$WORK/resize.out" --resize-on "xfer%" 80 \
  --term-on "max wait     SL$ESC[K" -- "${WATCH[@]}" 2> "$WORK/resize.log" || rc=$?
[ "$rc" -eq 0 ] || { cat "$WORK/resize.log"; e2e_fail "resized watch exited $rc"; }
[ -s "$WORK/resize.out.resized" ] || e2e_fail "never resized (no full-width frame at 132)"
check_width "$WORK/resize.out" 132
check_width "$WORK/resize.out" 80 "max wait     SL$ESC[K" # the first frame at 80, and after

# a mode that does not exist is a usage error naming it
rc=0
"${WATCH[@]}" --mode=fancy > "$WORK/bad.out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -qF "kpistream watch: --mode: 'fancy' is not auto, screen or lines" \
  "$WORK/bad.out" || { cat "$WORK/bad.out"; e2e_fail "--mode=fancy: exit $rc"; }

# piped: the line output, no escape sequence, every column, both intervals
"${WATCH[@]}" --exit-after-intervals 2 --exit-after 60s > "$WORK/lines.out" 2> "$WORK/lines.log" ||
  { cat "$WORK/lines.log"; e2e_fail "piped watch failed"; }
! grep -qaF "$ESC" "$WORK/lines.out" || e2e_fail "piped output has escape sequences"
grep -qaF "max wait     SL     AHT    FCR  xfer%" "$WORK/lines.out" || e2e_fail "piped: columns"
[ "$(grep -c "^acme · " "$WORK/lines.out")" -eq 2 ] || e2e_fail "piped: not two intervals"
# --mode=lines on a terminal: the same lines
python3 "$SRC/tests/e2e/pty_run.py" 80 24 "$WORK/tty_lines.out" -- "${WATCH[@]}" --mode=lines \
  --exit-after-intervals 2 --exit-after 60s 2> /dev/null || e2e_fail "--mode=lines failed"
cmp <(tr -d '\r' < "$WORK/tty_lines.out") "$WORK/lines.out" ||
  e2e_fail "--mode=lines on a terminal differs from the piped output"
echo "e2e_watch_screen: ok"
