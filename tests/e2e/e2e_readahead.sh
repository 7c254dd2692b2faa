#!/usr/bin/env bash
# Bounded read-ahead (issue 16) end to end: the results of a bounded run do
# not depend on how its input is fetched. Embedded broker, two partitions per
# topic; 40 minutes of simulated traffic, then a minute from 08:20 again
# (late input: restated intervals, each result republished with the next
# revision). Four `kpistream run --until-eof` over it, each its own group:
#   A  kpistream's defaults;
#   B  one-byte fetches (max.partition.fetch.bytes 1: one batch per request)
#      and a 1 KiB per-partition read-ahead bound (queued.max.messages.kbytes
#      1, queued.min.messages 1): librdkafka stops fetching every partition
#      until the task has pulled it empty;
#   C  a memory budget of 1 byte: every partition paused after each drain
#      (librdkafka drops what its queue holds and fetches it again from the
#      last message pulled once resumed);
#   D  fetch.wait.max.ms 1 and the defaults otherwise.
# Checks: every run processes every event and restates some; the four
# outputs are the same records, byte for byte, revisions included (as
# multisets of key + value: kcat dumps compared in python).
# usage: e2e_readahead.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3
. "$SRC/tests/e2e/lib.sh"
command -v kcat > /dev/null || e2e_fail "kcat is not installed"
WORK=$(mktemp -d)
BROKER_PID=
cleanup() {
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2> /dev/null && wait "$BROKER_PID" 2> /dev/null
  [ -n "${KEEP:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

"$KPISTREAM" broker --partitions 2 --bootstrap-file "$WORK/bootstrap" --exit-after 300 \
  > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
BS=$(cat "$WORK/bootstrap")

sim() { # sim SEED START DURATION
  "$KPISTREAM" simulate --bootstrap-file "$WORK/bootstrap" --seed "$1" --speed max --start "$2" \
    --duration "$3" --tenants 2 --log-level warn >> "$WORK/sim.log" 2>&1 ||
    { cat "$WORK/sim.log"; e2e_fail "simulate failed"; }
}
sim 5 2026-11-23T08:00:00Z 40m
sim 6 2026-11-23T08:20:00Z 1m # late: restates 08:15-08:30

config() { # config NAME EXTRA_CONSUMER_PROPERTIES EXTRA_YAML
  cat > "$WORK/$1.yaml" << YAML
kafka:
  consumer: {group.id: ra$1, session.timeout.ms: 6000$2}
input: {topics: [events.voice, events.email, events.chat, events.agent, events.feedback, events.business]}
intervals: {length: 15m, allowed_lateness: 30s}
checkpoint: {enabled: false}
plugin_dir: $PLUGIN_DIR
plugins:
  - {name: operations, topic: ra$1.operations}
stats_interval: 0s
$3
YAML
}
config A ", fetch.wait.max.ms: 50" ""
config B ", fetch.wait.max.ms: 50, max.partition.fetch.bytes: 1, queued.max.messages.kbytes: 1, queued.min.messages: 1" ""
config C ", fetch.wait.max.ms: 50" "state: {memory_budget: 1}"
config D ", fetch.wait.max.ms: 1" ""

field() { sed -n "s/.*stopped:.* $2 \([0-9]*\).*/\1/p" "$WORK/$1.log"; }
for r in A B C D; do
  run_bounded "$KPISTREAM" "$WORK/bootstrap" "$WORK/$r.yaml" "$WORK/$r.log" | cut -c1-150
done
EVENTS=$(field A events)
[ "${EVENTS:-0}" -gt 3000 ] || e2e_fail "run A processed ${EVENTS:-0} events"
[ "$(field A restated)" -gt 0 ] || e2e_fail "run A restated nothing: the test would not see revisions"
for r in B C D; do
  [ "$(field $r events)" = "$EVENTS" ] || e2e_fail "run $r processed $(field $r events) events, A $EVENTS"
done
grep -q "over state.memory_budget 1: paused" "$WORK/C.log" || e2e_fail "run C never paused its input"

for r in A B C D; do
  kcat -C -b "$BS" -t ra$r.operations -o beginning -e -q -f '%k\t%R%s' > "$WORK/$r.dump"
done
python3 - "$WORK" << 'PY'
import hashlib, struct, sys
def records(path):
    raw, i, out = open(path, 'rb').read(), 0, []
    while i < len(raw):
        tab = raw.index(b'\t', i)
        n = struct.unpack('>I', raw[tab + 1:tab + 5])[0]
        out.append(raw[i:tab] + b'\0' + raw[tab + 5:tab + 5 + n])
        i = tab + 5 + n
    return sorted(out)
runs = {r: records('%s/%s.dump' % (sys.argv[1], r)) for r in 'ABCD'}
keys = len(set(x.split(b'\0')[0] for x in runs['A']))
for r, recs in runs.items():
    print('run %s: %d results (%d keys), sha256 %s' % (r, len(recs), keys,
          hashlib.sha256(b''.join(recs)).hexdigest()[:16]))
if len(runs['A']) <= keys:
    sys.exit('E2E FAIL: no result was republished: the test would not see revisions')
for r in 'BCD':
    if runs[r] != runs['A']:
        sys.exit('E2E FAIL: run %s published other records than run A' % r)
PY
echo "e2e_readahead: OK"
