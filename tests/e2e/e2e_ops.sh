#!/usr/bin/env bash
# The operator's service end to end (issue 14), against the embedded broker:
#  1. http.listen: /readyz 200 once assigned; /healthz 200; /metrics
#     parsed by an independent parser (python, the text format's rules), its
#     families exactly those docs/operations.md lists, events consumed equal
#     to what kcat counts on the input topics, consumer lag 0 on every
#     assigned partition once caught up, and in the periodic lag log line.
#  2. systemd's protocol on a datagram socket this test listens on:
#     READY=1, WATCHDOG=1 (WATCHDOG_USEC=2 s), STOPPING=1.
#  3. SIGHUP: a valid change of log_level is applied; a change of
#     intervals.length is refused naming the key; a broken file is refused
#     with its line; the service keeps serving throughout.
#  3b. The broker goes down (control FIFO): /readyz turns 503 with a JSON
#     reason naming the unreachable broker, and 200 again once it is back
#     and a message is fetched.
#  4. A port in use fails the start with exit 2 naming http.listen.
#  5. With the broker gone the stop waits for shutdown.timeout (30 s); a
#     second SIGTERM ends it at once with status 1 and one line.
# usage: e2e_ops.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3
. "$SRC/tests/e2e/lib.sh"
for tool in kcat curl python3; do command -v $tool > /dev/null || e2e_fail "$tool is not installed"; done
WORK=$(mktemp -d)
BROKER_PID= RUN_PID= NOTIFY_PID=
cleanup() {
  for p in $RUN_PID $NOTIFY_PID $BROKER_PID; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$KPISTREAM" broker --partitions 2 --bootstrap-file "$WORK/bootstrap" --exit-after 240 \
  --control "$WORK/ctl" --control-ack "$WORK/ack" > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
BS=$(cat "$WORK/bootstrap")
"$KPISTREAM" simulate --bootstrap-file "$WORK/bootstrap" --seed 5 --speed max --duration 1h \
  --tenants 1 > "$WORK/sim.out" 2> "$WORK/sim.log" || { cat "$WORK/sim.log"; e2e_fail "simulate failed"; }
# one message that is not an event: kpistream_events_rejected_total{reason="invalid"} 1
printf 'not an event' | kcat -P -b "$BS" -t events.voice -k acme
TOPICS="events.voice events.email events.chat events.agent events.feedback events.business"
produced=0
: > "$WORK/per_topic"
for t in $TOPICS; do
  n=$(kcat -C -b "$BS" -t "$t" -e -q -f '.' | wc -c)
  echo "kpistream_events_consumed_total{topic=\"$t\"} $n" >> "$WORK/per_topic"
  produced=$((produced + n))
done
[ "$produced" -gt 100 ] || e2e_fail "the simulator produced only $produced events"

# the notify socket: every datagram, one line each (newlines as |)
python3 - "$WORK/notify" "$WORK/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode().replace("\n", "|") + "\n")
PY
NOTIFY_PID=$!
wait_until 10 "the notify socket" test -S "$WORK/notify"

cat > "$WORK/k.yaml" <<YAML
kafka:
  consumer: {group.id: ops, session.timeout.ms: 6000, fetch.wait.max.ms: 50}
  # records wait 4 s in the producer: step 5 kills the broker while one is
  # still there, so the stop has something to wait for
  producer: {linger.ms: 4000}
input: {topics: [events.voice, events.email, events.chat, events.agent, events.feedback, events.business]}
intervals: {length: 15m, allowed_lateness: 30s}
checkpoint: {interval: 500ms}
shutdown: {timeout: 30s}
plugin_dir: $PLUGIN_DIR
plugins: [{name: operations}, {name: operations, instance: ops_b}]
http: {listen: "127.0.0.1:0"}
stats_interval: 1s
log_level: info
YAML
NOTIFY_SOCKET="$WORK/notify" WATCHDOG_USEC=2000000 \
  "$KPISTREAM" run -c "$WORK/k.yaml" --bootstrap-file "$WORK/bootstrap" > "$WORK/run.log" 2>&1 &
RUN_PID=$!
has_port() { grep -q "http: serving .* (port [0-9]*)" "$WORK/run.log"; }
wait_until 30 "the HTTP endpoint" has_port
PORT=$(sed -n 's/.*http: serving .* (port \([0-9]*\)).*/\1/p' "$WORK/run.log" | head -1)
U="http://127.0.0.1:$PORT"
code() { curl -s -o "$WORK/body" -w '%{http_code}' --max-time 5 "$U$1"; }

# 1. readiness, liveness, metrics
ready() { [ "$(code /readyz)" = 200 ]; }
wait_until 60 "/readyz 200" ready
grep -q '"status":"ready","assigned_partitions":12' "$WORK/body" || e2e_fail "/readyz: $(cat "$WORK/body")"
[ "$(code /healthz)" = 200 ] || e2e_fail "/healthz $(cat "$WORK/body")"
grep -q '"status":"ok"' "$WORK/body" || e2e_fail "/healthz body"
[ "$(code /nope)" = 404 ] || e2e_fail "/nope is not 404"
grep -q "READY=1" "$WORK/notify.log" || e2e_fail "no READY=1 on the notify socket"
caught_up() {
  curl -s --max-time 5 "$U/metrics" > "$WORK/metrics.txt" &&
    [ "$(grep -c '^kpistream_events_consumed_total{' "$WORK/metrics.txt")" = 6 ] &&
    grep -Fxf "$WORK/per_topic" "$WORK/metrics.txt" | [ "$(wc -l)" = 6 ] &&
    [ "$(grep -c '^kpistream_consumer_lag_messages{' "$WORK/metrics.txt")" = 12 ] &&
    ! grep '^kpistream_consumer_lag_messages{' "$WORK/metrics.txt" | grep -qv ' 0$'
}
wait_until 90 "events consumed = $produced and lag 0 on 12 partitions" caught_up
python3 - "$WORK/metrics.txt" "$SRC/docs/operations.md" <<'PY'
# The text exposition format, checked independently of metrics.c: every
# sample belongs to a family declared by HELP and TYPE before it, names and
# labels are well formed, counters end in _total, values are floats; the
# families are exactly the table of docs/operations.md.
import re, sys
text = open(sys.argv[1]).read()
doc = open(sys.argv[2]).read()
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample = re.compile(r"^(%s)(\{%s(?:,%s)*\})? (\S+)$" % (NAME, LABEL, LABEL))
types, helps, seen = {}, set(), set()
def fail(msg):
    print("E2E FAIL: /metrics: " + msg, file=sys.stderr); sys.exit(1)
assert text.endswith("\n")
for line in text.splitlines():
    if line.startswith("# HELP "):
        helps.add(line.split()[2])
    elif line.startswith("# TYPE "):
        _, _, n, t = line.split()
        if n in types: fail("family %s declared twice" % n)
        if t not in ("counter", "gauge"): fail("type " + t)
        if t == "counter" and not n.endswith("_total"): fail("counter %s lacks _total" % n)
        if n not in helps: fail("TYPE before HELP for " + n)
        types[n] = t
    else:
        m = sample.match(line)
        if not m: fail("malformed line: " + line)
        if m.group(1) not in types: fail("sample before its TYPE: " + line)
        float(m.group(3).replace("+Inf", "inf"))
        seen.add(m.group(1))
documented = set(re.findall(r"^\| `(kpistream_[a-z_]+)` \|", doc, re.M))
if set(types) != documented:
    fail("served %s, documented but not served %s" % (sorted(set(types) - documented), sorted(documented - set(types))))
print("/metrics: %d families, %d samples, all documented" % (len(types), len(text.splitlines()) - 2 * len(types)))
PY
grep -qx "kpistream_assigned_partitions 12" "$WORK/metrics.txt" || e2e_fail "assigned partitions"
# per reason, per plugin instance, per output topic (issue 14)
for want in 'kpistream_events_rejected_total{reason="invalid"} 1' \
  'kpistream_events_rejected_total{reason="future_time"} 0' \
  'kpistream_plugin_errors_total{plugin="operations"} 0' 'kpistream_plugin_errors_total{plugin="ops_b"} 0'; do
  grep -qxF "$want" "$WORK/metrics.txt" || e2e_fail "/metrics lacks: $want"
done
[ "$(grep -c '^kpistream_plugin_errors_total{' "$WORK/metrics.txt")" = 2 ] || e2e_fail "plugin errors: not 2 samples"
# results per topic: what kcat reads on each topic (both instances compute the same)
results_match() {
  local a b
  a=$(kcat -C -b "$BS" -t kpi.operations -e -q -f '.' 2> /dev/null | wc -c)
  b=$(kcat -C -b "$BS" -t kpi.ops_b -e -q -f '.' 2> /dev/null | wc -c)
  curl -s --max-time 5 "$U/metrics" > "$WORK/metrics2.txt"
  [ "$a" -gt 0 ] && [ "$a" = "$b" ] &&
    grep -qxF "kpistream_results_produced_total{topic=\"kpi.operations\"} $a" "$WORK/metrics2.txt" &&
    grep -qxF "kpistream_results_produced_total{topic=\"kpi.ops_b\"} $b" "$WORK/metrics2.txt" &&
    [ "$(grep -c '^kpistream_results_produced_total{' "$WORK/metrics2.txt")" = 2 ]
}
wait_until 60 "results per topic = what kcat reads on kpi.operations and kpi.ops_b" results_match
grep -E '^kpistream_(events_consumed|events_rejected|plugin_errors|results_produced)_total\{' "$WORK/metrics2.txt"
grep -qx "kpistream_ready 1" "$WORK/metrics.txt" || e2e_fail "kpistream_ready"
grep -q '^kpistream_watermark_lag_seconds{task="0"} ' "$WORK/metrics.txt" || e2e_fail "no watermark lag of task 0"
lag_line() { grep -q "ops: consumer lag 0 messages (most: 0 on events\.[a-z]* \[[01]\]), watermark lag [0-9]* s (task [01])" "$WORK/run.log"; }
wait_until 10 "the stats line's consumer and watermark lag" lag_line
echo "endpoint: ready, alive, $produced events consumed, lag 0 on 12 partitions"
grep -m1 "ops: consumer lag 0" "$WORK/run.log" | sed 's/^[^ ]* //'

# 2. the watchdog is fed from the loop (at least twice per WATCHDOG_USEC)
fed() { [ "$(grep -c '^WATCHDOG=1$' "$WORK/notify.log")" -ge 3 ]; }
wait_until 10 "WATCHDOG=1 three times" fed

# 3. reload
sed -i 's/^log_level: info/log_level: debug/' "$WORK/k.yaml"
kill -HUP "$RUN_PID"
reloaded() { grep -q "ops: reloaded $WORK/k.yaml: 1 keys changed: log_level" "$WORK/run.log"; }
wait_until 10 "the reload of log_level" reloaded
sed -i 's/length: 15m/length: 5m/' "$WORK/k.yaml"
kill -HUP "$RUN_PID"
refused() { grep -q "reload refused: $WORK/k.yaml: 'intervals.length' changed, which takes a restart" "$WORK/run.log"; }
wait_until 10 "the refusal of intervals.length" refused
sed -i 's/length: 5m/length: 15m/' "$WORK/k.yaml"
echo "plugins: [" >> "$WORK/k.yaml"
kill -HUP "$RUN_PID"
broken() { grep -q "reload refused: $WORK/k.yaml:[0-9]*:[0-9]*: " "$WORK/run.log"; }
wait_until 10 "the refusal of a broken file" broken
kill -0 "$RUN_PID" || e2e_fail "the service died on a reload"
[ "$(code /healthz)" = 200 ] || e2e_fail "/healthz after reloads"
grep -E "ops: reload" "$WORK/run.log" | sed 's/^[^ ]* //'

# 3b. broker reachability in /readyz
ctl_sync "down 1"
unready() { [ "$(code /readyz)" = 503 ] && grep -q '"reason":"broker unreachable: ' "$WORK/body"; }
wait_until 60 "/readyz 503 with the broker down" unready
echo "broker down: /readyz 503 $(cat "$WORK/body")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"]=="not ready" and d["reason"].startswith("broker unreachable")' "$WORK/body" ||
  e2e_fail "/readyz body is not the expected JSON: $(cat "$WORK/body")"
grep -qx "kpistream_ready 0" <(curl -s --max-time 5 "$U/metrics") || e2e_fail "kpistream_ready is not 0 with the broker down"
ctl_sync "up 1"
# the consumer's watch clears when a fetch works: one (undecodable) message to fetch
printf 'after the outage' | kcat -P -b "$BS" -t events.voice -k acme
wait_until 90 "/readyz 200 with the broker back" ready
echo "broker back: /readyz 200 $(cat "$WORK/body")"

# 4. the port in use: exit 2 at start
sed -i '$d' "$WORK/k.yaml"
sed "s/127.0.0.1:0/127.0.0.1:$PORT/" "$WORK/k.yaml" > "$WORK/k2.yaml"
rc=0
timeout 30 "$KPISTREAM" run -c "$WORK/k2.yaml" --bootstrap-file "$WORK/bootstrap" > "$WORK/run2.log" 2>&1 || rc=$?
[ $rc -eq 2 ] || { cat "$WORK/run2.log"; e2e_fail "a port in use exited $rc, not 2"; }
grep -q "http.listen 127.0.0.1:$PORT: cannot listen: Address already in use" "$WORK/run2.log" ||
  { cat "$WORK/run2.log"; e2e_fail "the bind error does not name http.listen"; }
echo "port in use: $(cat "$WORK/run2.log")"

# 5. the broker dies with a record still to deliver (the dead letter of one
# more message, lingering 4 s in the producer): the stop would wait
# shutdown.timeout; a second signal ends it
invalid() { curl -s --max-time 5 "$U/metrics" | sed -n 's/^kpistream_events_rejected_total{reason="invalid"} //p'; }
before=$(invalid)
printf 'one more' | kcat -P -b "$BS" -t events.voice -k acme
one_more() { [ "$(invalid)" = $((before + 1)) ]; }
wait_until 30 "the last message's dead letter" one_more
kill -9 "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null || true
BROKER_PID=
kill -TERM "$RUN_PID"
stopping() { grep -q "^STOPPING=1" "$WORK/notify.log"; }
wait_until 10 "STOPPING=1" stopping
sleep 1
kill -0 "$RUN_PID" || e2e_fail "the stop did not wait for the broker (nothing to force)"
T=$SECONDS
kill -TERM "$RUN_PID"
rc=0
wait "$RUN_PID" || rc=$?
RUN_PID=
took=$((SECONDS - T))
[ $rc -eq 1 ] || e2e_fail "the forced exit's status is $rc, not 1"
[ $took -le 3 ] || e2e_fail "the second SIGTERM took $took s to end the process"
grep -q "second stop signal: exiting at once" "$WORK/run.log" || e2e_fail "no line for the forced exit"
echo "second SIGTERM: exit 1 within $took s: $(grep 'second stop signal' "$WORK/run.log")"
echo "operator's service OK"
