#!/usr/bin/env bash
# `kpistream sink postgres` against a real PostgreSQL (Debian's server, started
# here: initdb into a temporary directory owned by an unprivileged user,
# listening only on a Unix socket in that directory, stopped by the trap).
#
# A simulated stream runs through the operations plugin twice, to a protobuf
# and a json topic. Then:
#   1. the protobuf topic is sunk into database kpi_pb by a sink killed with
#      SIGKILL at random points (KS_SINK_KILLS, default 3; seed printed, set
#      KS_KILL_SEED to replay) and restarted, one run losing its database
#      connection mid-stream (pg_terminate_backend), then a last run to the end;
#      the json topic is sunk into kpi_json in one run;
#   2. each table equals `kpistream dump`'s upsert view of the protobuf topic
#      (key -> highest revision: same keys, revisions, values, numerators,
#      denominators, counts; doubles compared as doubles);
#   3. a second sink group replaying the topic from the beginning changes no
#      row (older and equal revisions are ignored);
#   4. the day roll-up view equals roll-ups computed here from the raw rows;
#   5. clear errors: a missing database, a database without the schema, a
#      wrong schema version, a second sink of the same group.
#
# usage: e2e_sink_postgres.sh KPISTREAM_BINARY PLUGIN_DIR SOURCE_DIR
set -euo pipefail
export LC_ALL=C
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3
. "$SRC/tests/e2e/lib.sh"
SEED=${KS_KILL_SEED:-$(date +%s)}
RANDOM=$SEED
KILLS=${KS_SINK_KILLS:-3}
echo "kill seed $SEED ($KILLS kills)"
for tool in kcat psql python3; do command -v $tool >/dev/null || e2e_fail "$tool is not installed"; done

WORK=$(mktemp -d)
BROKER_PID= SINK_PID=
cleanup() {
  [ -n "$SINK_PID" ] && kill -9 "$SINK_PID" 2>/dev/null
  pg_stop
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
pg_start
psql -X -q -d postgres -c 'CREATE DATABASE kpi_pb' -c 'CREATE DATABASE kpi_json' -c 'CREATE DATABASE kpi_bad'
q() { psql -X -q -At -F $'\t' -d "$1" -c "$2"; } # q DB SQL

"$KPISTREAM" broker --partitions 2 --bootstrap-file "$WORK/bootstrap" --exit-after 600 \
  > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
BS=$(cat "$WORK/bootstrap")
"$KPISTREAM" simulate --bootstrap-file "$WORK/bootstrap" --seed 7 --tenants 2 --duration 4h \
  --speed max --log-level warn > "$WORK/sim.log" 2>&1 || { cat "$WORK/sim.log"; e2e_fail "simulate failed"; }
for f in pb json; do
  bounded_config "$WORK/$f.yaml" "g-$f" "events.voice, events.email, events.chat, events.feedback" \
    "kpi-$f" "$PLUGIN_DIR" operations experience
  # restatements: a late event within the horizon publishes its interval again, next revision
  sed -i 's/allowed_lateness: 0s/allowed_lateness: 0s, restatement_horizon: 2h/' "$WORK/$f.yaml"
done
printf 'output: {format: json}\n' >> "$WORK/json.yaml"
for f in pb json; do run_bounded "$KPISTREAM" "$WORK/bootstrap" "$WORK/$f.yaml" "$WORK/$f.log"; done
# Two rounds of late events into the last hour's queue intervals: restated results, revisions 1 and 2.
"$KPISTREAM" dump --bootstrap-file "$WORK/bootstrap" kpi-pb.operations 2> /dev/null |
  grep -o '^operations/offered|acme|voice|[^|]*|||[0-9]*' | sort -t '|' -k7,7n | tail -1 > "$WORK/late_key"
LATE_Q=$(cut -d'|' -f4 "$WORK/late_key") LATE_T=$(cut -d'|' -f7 "$WORK/late_key")
[ -n "$LATE_Q" ] || e2e_fail "no voice queue result of acme to restate"
for round in 1 2; do
  for j in 1 2 3; do
    encode_event "$SRC/proto" "event_id: \"late$round-$j\" event_time_ms: $((LATE_T - 900000 * j + 60000)) tenant: \"acme\"
      channel: CHANNEL_VOICE contact_id: \"late$round-$j\" queue: \"$LATE_Q\" contact_queued {}" "$WORK/late$round-$j-a.bin"
    encode_event "$SRC/proto" "event_id: \"late$round-$j-x\" event_time_ms: $((LATE_T - 900000 * j + 65000)) tenant: \"acme\"
      channel: CHANNEL_VOICE contact_id: \"late$round-$j\" queue: \"$LATE_Q\" contact_abandoned { stage: ABANDON_IN_QUEUE }" "$WORK/late$round-$j-b.bin"
  done
  if [ $round -eq 1 ]; then # a queue name with the key's escape characters and UTF-8
    encode_event "$SRC/proto" "event_id: \"odd-a\" event_time_ms: $((LATE_T - 840000)) tenant: \"acme\"
      channel: CHANNEL_VOICE contact_id: \"odd\" queue: \"q\\\\x|\303\251,=\" contact_queued {}" "$WORK/late1-odd-a.bin"
    encode_event "$SRC/proto" "event_id: \"odd-b\" event_time_ms: $((LATE_T - 830000)) tenant: \"acme\"
      channel: CHANNEL_VOICE contact_id: \"odd\" queue: \"q\\\\x|\303\251,=\" contact_abandoned { stage: ABANDON_IN_QUEUE }" "$WORK/late1-odd-b.bin"
  fi
  kcat -P -b "$BS" -t events.voice -k acme "$WORK"/late$round-*.bin
  for f in pb json; do run_bounded "$KPISTREAM" "$WORK/bootstrap" "$WORK/$f.yaml" "$WORK/$f-late$round.log" > /dev/null; done
done
grep -o 'restated [0-9]*' "$WORK/pb-late2.log"
TOPICS=(-t kpi-pb.operations -t kpi-pb.experience)
"$KPISTREAM" dump --bootstrap-file "$WORK/bootstrap" "${TOPICS[@]}" > "$WORK/dump.txt" 2> "$WORK/dump.log" ||
  { cat "$WORK/dump.log"; e2e_fail "dump failed"; }
latest_by_key "$WORK/dump.txt" > "$WORK/expected.txt"
N=$(wc -l < "$WORK/dump.txt")
grep -q '^operations/offered|acme|voice|q\\\\x\\|é\\,\\=|||' "$WORK/dump.txt" || e2e_fail "no result of the odd queue"
echo "$N results on kpi-pb.operations and kpi-pb.experience, $(grep -c '|[a-z_]*=' "$WORK/dump.txt") with labels, $(wc -l < "$WORK/expected.txt") keys, $(awk -F'\t' '$2 > 0' "$WORK/dump.txt" | wc -l) restatements"

SINK=("$KPISTREAM" sink postgres --bootstrap-file "$WORK/bootstrap")
"${SINK[@]}" --init -d kpi_pb 2> "$WORK/init.log" || { cat "$WORK/init.log"; e2e_fail "--init failed"; }
"${SINK[@]}" --init -d kpi_pb 2>> "$WORK/init.log" || { cat "$WORK/init.log"; e2e_fail "a second --init failed"; }
"${SINK[@]}" --init -d kpi_json 2>> "$WORK/init.log" || { cat "$WORK/init.log"; e2e_fail "--init failed"; }

# 1. kill -9 at random points, one lost connection, then to the end
offsets_sum() { q kpi_pb "SELECT coalesce(sum(next_offset), 0) FROM kpistream.sink_offsets WHERE sink_group = 'g'"; }
for ((k = 1; k <= KILLS; k++)); do
  target=$(( (N * k / (KILLS + 1)) + RANDOM % (N / (KILLS + 1) / 2 + 1) ))
  "${SINK[@]}" -d kpi_pb -g g --batch 97 --batch-time 50ms "${TOPICS[@]}" \
    > /dev/null 2> "$WORK/sink$k.log" &
  SINK_PID=$!
  if [ "$k" -eq 1 ]; then # its connection dies under it: it reconnects and goes on
    wait_until 60 "the sink to commit" bash -c "[ \$(psql -X -At -d kpi_pb -c \"SELECT count(*) FROM kpistream.sink_offsets\") -gt 0 ]"
    q kpi_pb "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'kpistream-sink'" > /dev/null
    wait_until 60 "the sink to reconnect" grep -q "reconnected to database kpi_pb" "$WORK/sink$k.log"
  fi
  deadline=$((SECONDS + 120))
  while [ "$(offsets_sum)" -lt "$target" ] && kill -0 $SINK_PID 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.02; done
  kill -9 $SINK_PID 2>/dev/null || { cat "$WORK/sink$k.log"; e2e_fail "the sink was gone before kill $k"; }
  wait $SINK_PID 2>/dev/null || true
  SINK_PID=
  echo "kill -9 $k at $(offsets_sum) of $N offsets stored (target $target)"
done
"${SINK[@]}" -d kpi_pb -g g --batch 97 --until-eof "${TOPICS[@]}" 2> "$WORK/sink_last.log" ||
  { cat "$WORK/sink_last.log"; e2e_fail "the last sink run failed"; }
grep -o 'stopped: .*' "$WORK/sink_last.log"
# (the topics from the pipeline's own configuration, -c)
"${SINK[@]}" -d kpi_json -g g --until-eof -c "$WORK/json.yaml" 2> "$WORK/sink_json.log" ||
  { cat "$WORK/sink_json.log"; e2e_fail "the json sink failed"; }
echo "json: $(grep -o 'stopped: .*' "$WORK/sink_json.log")"

# 2. the tables equal dump's upsert view
table_view() { # table_view DB OUT
  q "$1" "SELECT key, revision, coalesce(value::text, 'null'), numerator, denominator, count FROM kpistream.results" |
    sort -t $'\t' -k1,1 > "$2"
}
same_view() { # same_view WANT GOT WHAT
  python3 - "$1" "$2" "$3" <<'PY' || e2e_fail "$3 differs from dump's upsert view (above)"
import sys
def rows(path):
    out = {}
    for line in open(path):
        k, rev, v, n, d, c = line.rstrip("\n").split("\t")
        out[k] = (int(rev), None if v == "null" else float(v), float(n), float(d), int(c))
    return out
want, got = rows(sys.argv[1]), rows(sys.argv[2])
bad = [k for k in sorted(set(want) | set(got)) if want.get(k) != got.get(k)]
for k in bad[:10]:
    print("  %s: dump %s, table %s" % (k, want.get(k), got.get(k)), file=sys.stderr)
if bad:
    sys.exit(1)
print("%s: %d rows equal dump's upsert view (key, revision, value, numerator, denominator, count)"
      % (sys.argv[3], len(got)))
PY
}
table_view kpi_pb "$WORK/table_pb.txt"
same_view "$WORK/expected.txt" "$WORK/table_pb.txt" "kpi_pb (after $KILLS kills and a lost connection)"
table_view kpi_json "$WORK/table_json.txt"
same_view "$WORK/expected.txt" "$WORK/table_json.txt" "kpi_json (from the json topic)"
# labels (jsonb) and dimensions against the key, parsed here (docs/schema.md: '|', ',', '=', '\'
# escaped by '\')
q kpi_pb "SELECT key, labels::text, family, metric, tenant, queue, agent_id,
            (extract(epoch FROM interval_start) * 1000)::bigint FROM kpistream.results" > "$WORK/keys.txt"
python3 - "$WORK/keys.txt" <<'PY' || e2e_fail "labels or dimensions differ from the key (above)"
import json, sys
def split(s, sep):
    parts, cur, esc = [], "", False
    for ch in s:
        if esc:
            cur += ch; esc = False
        elif ch == "\\":
            esc = True
        elif ch == sep:
            parts.append(cur); cur = ""
        else:
            cur += ch
    return parts + [cur]
def raw_split(s, sep):  # split on unescaped sep, keeping escapes
    parts, cur, esc = [], "", False
    for ch in s:
        if esc:
            cur += ch; esc = False
        elif ch == "\\":
            cur += ch; esc = True
        elif ch == sep:
            parts.append(cur); cur = ""
        else:
            cur += ch
    return parts + [cur]
n = labelled = 0
for line in open(sys.argv[1], encoding="utf-8"):
    key, labels, family, metric, tenant, queue, agent, start = line.rstrip("\n").split("\t")
    f = raw_split(key, "|")
    want = {}
    if f[5]:
        for kv in raw_split(f[5], ","):
            k, v = raw_split(kv, "=")
            want[split(k, "")[0]] = split(v, "")[0]
    got = (json.loads(labels), f[0], split(f[1], "")[0], split(f[3], "")[0], split(f[4], "")[0], int(f[6]))
    exp = (want, family + "/" + metric, tenant, queue, agent, int(start))
    if got != exp:
        print("  %s: table %s, key says %s" % (key, exp, got), file=sys.stderr)
        sys.exit(1)
    n += 1
    labelled += bool(want)
print("labels, family/metric, tenant, queue, agent and interval start of all %d rows (%d with labels) match their keys" % (n, labelled))
PY
[ "$(q kpi_pb "SELECT sum(next_offset) FROM kpistream.sink_offsets WHERE sink_group = 'g'")" -eq "$N" ] ||
  e2e_fail "stored offsets do not add up to the $N records"

# 3. a replay by another group changes nothing
q kpi_pb "SELECT key, revision, updated_at FROM kpistream.results" | sort > "$WORK/before.txt"
"${SINK[@]}" -d kpi_pb -g replay --until-eof "${TOPICS[@]}" 2> "$WORK/sink_replay.log" ||
  { cat "$WORK/sink_replay.log"; e2e_fail "the replay failed"; }
q kpi_pb "SELECT key, revision, updated_at FROM kpistream.results" | sort > "$WORK/after.txt"
cmp -s "$WORK/before.txt" "$WORK/after.txt" || e2e_fail "a replay of older or equal revisions changed rows"
echo "replay by a second group: $(grep -o 'stopped: [0-9]* rows' "$WORK/sink_replay.log" | cut -d' ' -f2) rows read, no row changed"

# 4. the day roll-up view against roll-ups computed from the raw rows
q kpi_pb "SELECT family, metric, level, tenant, channel, queue, agent_id, team, labels::text,
            to_char(interval_start AT TIME ZONE 'UTC', 'YYYY-MM-DD'), aggregation,
            coalesce(value::text, 'null'), numerator, denominator, count, interval_start
          FROM kpistream.results" > "$WORK/raw.txt"
q kpi_pb "SELECT family, metric, level, tenant, channel, queue, agent_id, team, labels::text,
            to_char(period_start AT TIME ZONE 'UTC', 'YYYY-MM-DD'), aggregation,
            coalesce(value::text, 'null'), numerator, denominator, count FROM kpistream.results_day" \
  > "$WORK/day.txt"
python3 - "$WORK/raw.txt" "$WORK/day.txt" <<'PY' || e2e_fail "the day roll-up view differs (above)"
import sys
groups = {}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    groups.setdefault(tuple(f[:11]), []).append(
        (f[15], None if f[11] == "null" else float(f[11]), float(f[12]), float(f[13]), int(f[14])))
want = {}
for g, rows in groups.items():
    num = sum(r[2] for r in rows); den = sum(r[3] for r in rows); cnt = sum(r[4] for r in rows)
    vals = [r[1] for r in rows if r[1] is not None]
    agg = g[10]
    if agg == "AGG_RATIO":
        v = num / den if den > 0 else None
    elif agg == "AGG_SUM":
        v = num
    elif agg == "AGG_MAX":
        v = max(vals) if vals else None
    elif agg == "AGG_MIN":
        v = min(vals) if vals else None
    else:  # AGG_GAUGE: the last interval's
        v = sorted(rows)[-1][1]
    want[g] = (v, num, den, cnt)
got = {}
for line in open(sys.argv[2]):
    f = line.rstrip("\n").split("\t")
    got[tuple(f[:11])] = (None if f[11] == "null" else float(f[11]), float(f[12]), float(f[13]), int(f[14]))
def close(a, b):
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
bad = [g for g in set(want) | set(got)
       if g not in want or g not in got or not all(close(x, y) for x, y in zip(want[g], got[g]))]
for g in sorted(bad)[:10]:
    print("  %s: computed %s, view %s" % (g, want.get(g), got.get(g)), file=sys.stderr)
if bad:
    sys.exit(1)
print("results_day: %d rows equal the roll-ups computed from %d raw rows" % (len(got), sum(map(len, groups.values()))))
PY

# 5. errors a human can act on
expect_err() { # expect_err WHAT PATTERN CMD...
  local what=$1 pat=$2 out rc=0
  shift 2
  out=$("$@" 2>&1 >/dev/null) || rc=$?
  [ $rc -eq 1 ] || e2e_fail "$what: exit $rc ($out)"
  case "$out" in *$pat*) ;; *) e2e_fail "$what said: $out" ;; esac
}
expect_err "missing database" 'database "nope" does not exist' "${SINK[@]}" -d nope -t kpi-pb.operations
expect_err "no schema" "database kpi_bad has no kpistream schema; create it with \`kpistream sink postgres --init\`" \
  "${SINK[@]}" -d kpi_bad -t kpi-pb.operations
"${SINK[@]}" --init -d kpi_bad 2> /dev/null
q kpi_bad "UPDATE kpistream.schema_version SET version = 2"
expect_err "wrong schema version" "database kpi_bad: kpistream schema version 2, this sink writes version 1" \
  "${SINK[@]}" -d kpi_bad -t kpi-pb.operations
# a record that is not a result, and one whose strings are not UTF-8 (PostgreSQL's text and
# jsonb refuse them): the sink commits what came before and stops naming the record, or skips
# them with --skip-undecodable; it never retries such a batch for ever
res() { # res KEY_BYTES_IN_TEXT_FORMAT OUT
  printf 'key: "%s" family: "operations" metric: "offered" interval_start_ms: 1795428000000 interval_end_ms: 1795428900000 tenant: "acme" numerator: 1 aggregation: AGG_SUM revision: 0\n' "$1" |
    protoc --encode=kpistream.v1.MetricResult -I "$SRC/proto" kpistream/v1/result.proto > "$2" 2> /dev/null
}
res 'operations/offered|acme|all||||1' "$WORK/p0.bin"
res 'operations/offered|acme|all|q\377|||1' "$WORK/p1.bin"
printf 'not a result' > "$WORK/p2.bin"
res 'operations/offered|acme|all|z|||1' "$WORK/p3.bin"
for i in 0 1 2 3; do kcat -P -b "$BS" -t kpi-poison -p 0 "$WORK/p$i.bin"; done
q postgres "CREATE DATABASE kpi_poison" > /dev/null
"${SINK[@]}" --init -d kpi_poison 2> /dev/null
expect_err "a result that is not UTF-8" "offset 1: a string is not UTF-8 (key)" \
  timeout 60 "${SINK[@]}" -d kpi_poison -g p --until-eof -t kpi-poison
[ "$(q kpi_poison "SELECT string_agg(key, ' ') FROM kpistream.results")" = 'operations/offered|acme|all||||1' ] ||
  e2e_fail "the row before the refused record is not committed"
"${SINK[@]}" -d kpi_poison -g p --until-eof --skip-undecodable -t kpi-poison 2> "$WORK/sink_skip.log" ||
  { cat "$WORK/sink_skip.log"; e2e_fail "--skip-undecodable did not go on"; }
grep -q "kpi-poison \[0\] offset 2: not a kpistream.v1.MetricResult.*skipped" "$WORK/sink_skip.log" ||
  { cat "$WORK/sink_skip.log"; e2e_fail "the skipped record is not named"; }
[ "$(q kpi_poison "SELECT count(*) FROM kpistream.results")" -eq 2 ] || e2e_fail "--skip-undecodable: not 2 rows"
echo "records that are not results or not UTF-8: stop after committing what came before, or skipped and named"

"${SINK[@]}" -d kpi_pb -g g -t kpi-pb.operations 2> "$WORK/sink_live.log" &
SINK_PID=$!
wait_until 60 "the live sink to start" bash -c "psql -X -At -d kpi_pb -c \"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'kpistream-sink'\" | grep -qx 1"
sleep 0.5
expect_err "second sink of a group" "another sink of group 'g' is running (its advisory lock is held; waited 1.0 s" \
  "${SINK[@]}" -d kpi_pb -g g --retry-for 1s -t kpi-pb.operations
kill -TERM $SINK_PID
wait $SINK_PID || { cat "$WORK/sink_live.log"; e2e_fail "the sink did not stop cleanly on SIGTERM"; }
SINK_PID=
echo "missing database, missing schema, wrong version, second sink of a group: refused with the reason; SIGTERM: exit 0"
