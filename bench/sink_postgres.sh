#!/usr/bin/env bash
# Throughput of `kpistream sink postgres` (docs/benchmarks.md): a simulated stream through the
# operations plugin into a protobuf and a json result topic on the embedded broker, then each
# topic sunk from the beginning (--until-eof, default batch) into an empty database of a
# PostgreSQL started here (tests/e2e/lib.sh pg_start), ROUNDS times; prints the sink's summary
# line (rows, transactions, seconds, rows/s) of each round.
#
# usage: bench/sink_postgres.sh KPISTREAM PLUGIN_DIR SOURCE_DIR [TENANTS] [DURATION] [ROUNDS]
set -euo pipefail
KPISTREAM=$1 PLUGIN_DIR=$2 SRC=$3 TENANTS=${4:-4} DURATION=${5:-8h} ROUNDS=${6:-3}
. "$SRC/tests/e2e/lib.sh"
WORK=$(mktemp -d)
BROKER_PID=
cleanup() {
  pg_stop
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
pg_start
"$KPISTREAM" broker --partitions 4 --bootstrap-file "$WORK/bootstrap" --exit-after 3600 \
  > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
"$KPISTREAM" simulate --bootstrap-file "$WORK/bootstrap" --seed 3 --tenants "$TENANTS" \
  --duration "$DURATION" --speed max --log-level warn > "$WORK/sim.log" 2>&1
for f in pb json; do
  bounded_config "$WORK/$f.yaml" "g-$f" "events.voice, events.email, events.chat" "kpi-$f" \
    "$PLUGIN_DIR" operations
done
printf 'output: {format: json}\n' >> "$WORK/json.yaml"
for f in pb json; do echo "$f: $(run_bounded "$KPISTREAM" "$WORK/bootstrap" "$WORK/$f.yaml" "$WORK/$f.log")"; done
for ((r = 1; r <= ROUNDS; r++)); do
  for f in pb json; do
    db=bench_${f}_$r
    psql -X -q -d postgres -c "CREATE DATABASE $db"
    "$KPISTREAM" sink postgres --init -d "$db" 2> /dev/null
    "$KPISTREAM" sink postgres --bootstrap-file "$WORK/bootstrap" -d "$db" --until-eof \
      -t "kpi-$f.operations" 2> "$WORK/sink.log" || { cat "$WORK/sink.log"; exit 1; }
    echo "round $r $f: $(grep -o 'stopped: .*' "$WORK/sink.log")"
  done
done
