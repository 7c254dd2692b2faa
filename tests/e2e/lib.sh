# Shared helpers for the end-to-end tests. Sourced, not run.
# Independent tools only: kcat talks Kafka, protoc encodes/decodes protobuf.
set -euo pipefail

e2e_fail() { echo "E2E FAIL: $*" >&2; exit 1; }

# wait_for_file PATH SECONDS — poll for a condition with a deadline (no guessing sleeps).
wait_for_file() {
  local path=$1 deadline=$((SECONDS + $2))
  while [ ! -s "$path" ]; do
    [ $SECONDS -lt $deadline ] || e2e_fail "timed out waiting for $path"
    sleep 0.1
  done
}

# wait_until SECONDS WHAT COMMAND... — poll COMMAND every 0.1 s until it succeeds.
wait_until() {
  local secs=$1 what=$2 deadline=$((SECONDS + $1))
  shift 2
  until "$@"; do
    [ $SECONDS -lt $deadline ] || e2e_fail "timed out after $secs s waiting for $what"
    sleep 0.1
  done
}

# Fault injection into `kpistream broker --control $WORK/ctl --control-ack $WORK/ack`
# (its log in $WORK/broker.log, its pid in BROKER_PID):
# ctl LINE... — one write of the lines to the FIFO (bounded: never hang on it);
# ctl_sync LINE... — the same plus `sync`, then wait until the broker applied them.
NSYNC=0
ctl() {
  kill -0 "$BROKER_PID" 2>/dev/null || { cat "$WORK/broker.log"; e2e_fail "the broker is gone"; }
  timeout 10 bash -c 'printf "%s\n" "${@:2}" > "$1"' _ "$WORK/ctl" "$@" ||
    e2e_fail "cannot write to the control FIFO"
}
ctl_sync() {
  NSYNC=$((NSYNC + 1))
  ctl "$@" sync
  wait_until 20 "the broker to apply: $*" grep -qx "ok $NSYNC" "$WORK/ack"
  if grep -E "control: .*(failed|ignored)" "$WORK/broker.log"; then
    e2e_fail "the broker refused a control command (above)"
  fi
}

# encode_event PROTO_DIR TEXT OUT — text format -> binary kpistream.v1.Event
encode_event() {
  printf '%s\n' "$2" | protoc --encode=kpistream.v1.Event -I "$1" kpistream/v1/events.proto > "$3"
}

# dump_topic BOOTSTRAP TOPIC OUTDIR — every message of TOPIC into OUTDIR/NNNN.bin
# (kcat's %R writes a 4-byte big-endian length before each payload).
dump_topic() {
  local bs=$1 topic=$2 out=$3 raw pos=0 size n=0 len
  mkdir -p "$out"
  raw=$out/raw
  kcat -C -b "$bs" -t "$topic" -o beginning -e -q -f '%R%s' > "$raw"
  size=$(stat -c %s "$raw")
  while [ "$pos" -lt "$size" ]; do
    len=$(od -An -tu1 -N4 -j "$pos" "$raw" | awk '{print ($1*16777216)+($2*65536)+($3*256)+$4}')
    # head may exit before tail is done writing: tail's SIGPIPE is not a failure
    { tail -c +$((pos + 5)) "$raw" || true; } | head -c "$len" > "$(printf '%s/%04d.bin' "$out" "$n")"
    pos=$((pos + 4 + len))
    n=$((n + 1))
  done
  rm -f "$raw"
  echo "$n"
}

# decode_field PROTO_DIR DIR FIELD ABSENT — one line per MetricResult: "<key> <FIELD>" as
# protoc --decode prints it, ABSENT when the field is not on the wire.
decode_field() {
  local f text key value
  for f in "$2"/*.bin; do
    [ -e "$f" ] || continue
    text=$(protoc --decode=kpistream.v1.MetricResult -I "$1" kpistream/v1/result.proto < "$f")
    key=$(printf '%s\n' "$text" | sed -n 's/^key: "\(.*\)"$/\1/p')
    value=$(printf '%s\n' "$text" | sed -n "s/^$3: \\(.*\\)\$/\\1/p")
    printf '%s %s\n' "$key" "${value:-$4}"
  done
}

# decode_results PROTO_DIR DIR — one line per MetricResult: "<key> <value|null>"
decode_results() { decode_field "$1" "$2" value null; }

# decode_levels PROTO_DIR DIR — one line per MetricResult: "<key> <level>", the level
# (kpistream.v1.Level) as protoc --decode names it; LEVEL_UNSPECIFIED when absent.
decode_levels() { decode_field "$1" "$2" level LEVEL_UNSPECIFIED; }

# check_levels RULES LEVELS — RULES: lines "ERE LEVEL" (# comments), the first ERE that
# matches a result key gives the level it must carry; LEVELS: decode_levels output.
# Fails naming every result whose level differs or that no rule covers.
check_levels() {
  local bad
  bad=$(awk 'NR == FNR { if ($0 !~ /^#/ && NF == 2) { re[++n] = $1; lv[n] = $2 } next }
    { want = ""; for (i = 1; i <= n; i++) if ($1 ~ re[i]) { want = lv[i]; break }
      if (want != $2) printf "  %s is %s, want %s\n", $1, $2, (want == "" ? "(no rule)" : want) }' \
    "$1" "$2")
  [ -z "$bad" ] || { printf '%s\n' "$bad" >&2; e2e_fail "result levels differ from $1 (above)"; }
  echo "all $(wc -l < "$2") result levels match $(basename "$1")"
}

# latest_by_key DUMPFILE — from `kpistream dump` output (KEY TAB REVISION TAB VALUE TAB
# NUMERATOR TAB DENOMINATOR TAB COUNT), per key the line with the highest revision
# (the first such line when repeated), sorted by key (byte order).
latest_by_key() {
  awk -F'\t' '!($1 in rev) || $2 + 0 > rev[$1] { rev[$1] = $2 + 0; line[$1] = $0 }
    END { for (k in line) print line[k] }' "$1" | LC_ALL=C sort -t "$(printf '\t')" -k1,1
}

# check_no_conflicts DUMPFILE — fails when two lines have the same key and revision but
# differ in any other field (a result restated without a new revision); exact repeats
# (a result delivered twice) are fine. Prints the first conflicts found.
check_no_conflicts() {
  local n
  n=$(awk -F'\t' '{ id = $1 FS $2 }
    (id in seen) && seen[id] != $0 {
      if (++bad <= 5) printf "conflict: %s\n     vs: %s\n", seen[id], $0 > "/dev/stderr"
      next }
    { seen[id] = $0 }
    END { print bad + 0 }' "$1")
  [ "$n" -eq 0 ] || e2e_fail "$n results in $1 share key and revision with different content"
}

# hex FILE — the bytes of FILE as one line of hex digits
hex() { od -An -v -tx1 "$1" | tr -d ' \n'; }

# loadable_plugins KPISTREAM PLUGIN_DIR WORKDIR FAMILY... — prints "operations" and every other
# FAMILY whose plugin is in PLUGIN_DIR and loads on its own (`run --check-config`)
loadable_plugins() {
  local bin=$1 dir=$2 work=$3 f list=operations
  shift 3
  for f in "$@"; do
    if [ "$f" = operations ] || [ ! -e "$dir/kpi_$f.so" ]; then continue; fi
    printf 'input: {topics: [in]}\nplugin_dir: %s\nplugins: [{name: %s}]\n' "$dir" "$f" \
      > "$work/check_$f.yaml"
    if "$bin" run -c "$work/check_$f.yaml" --check-config > "$work/check_$f.log" 2>&1; then
      list="$list $f"
    else
      echo "note: plugin $f does not load on its own, left out: $(tail -1 "$work/check_$f.log")" >&2
    fi
  done
  echo "$list"
}

# bounded_config FILE GROUP TOPICS OUTPUT_PREFIX PLUGIN_DIR PLUGIN... — a configuration for
# `run --until-eof`: input TOPICS ("a, b"), dead letters to kpistream.dlq, 15 min intervals
# without allowed lateness, each PLUGIN publishing to OUTPUT_PREFIX.<plugin>
bounded_config() {
  local file=$1 group=$2 topics=$3 out=$4 dir=$5 f
  shift 5
  {
    printf 'kafka:\n  consumer:\n    group.id: %s\n    session.timeout.ms: 6000\n' "$group"
    printf '    fetch.wait.max.ms: 50\n'
    printf 'input:\n  topics: [%s]\n  dead_letter_topic: kpistream.dlq\n' "$topics"
    printf 'intervals: {length: 15m, allowed_lateness: 0s}\nplugin_dir: %s\nplugins:\n' "$dir"
    for f in "$@"; do printf '  - name: %s\n    topic: %s.%s\n' "$f" "$out" "$f"; done
    printf 'stats_interval: 0s\n'
  } > "$file"
}

# run_bounded KPISTREAM BOOTSTRAP_FILE CONFIG LOG — `kpistream run --until-eof` (inside
# KS_E2E_WRAPPER, e.g. "valgrind --error-exitcode=99 ...", when set), which must exit 0;
# prints its summary line
run_bounded() {
  local rc=0 wrap
  read -r -a wrap <<< "${KS_E2E_WRAPPER:-}"
  timeout 240 "${wrap[@]}" "$1" run -c "$3" --bootstrap-file "$2" --until-eof > "$4" 2>&1 || rc=$?
  [ $rc -eq 0 ] || { cat "$4" >&2; e2e_fail "kpistream run -c $(basename "$3") exited $rc"; }
  grep -o 'stopped: .*' "$4" || { cat "$4" >&2; e2e_fail "no run summary in $(basename "$4")"; }
}

# read_dead_letters BOOTSTRAP TOPIC SOURCE WORKDIR OUT — every message of the dead-letter TOPIC as
# a line "<key> <payload in hex> <kpistream.reason>" in OUT; fails when one lacks its
# kpistream.source.* headers or its source topic does not match the pattern SOURCE. Per
# partition, headers (WORKDIR/dlq_h<partition>.txt, kept) and payloads (%R framing) are read in
# offset order and paired.
read_dead_letters() {
  local bs=$1 topic=$2 source=$3 work=$4 out=$5 nparts p pos k size len line key headers reason
  nparts=$(kcat -L -b "$bs" -t "$topic" | grep -c '^ *partition [0-9]')
  : > "$out"
  for ((p = 0; p < nparts; p++)); do
    kcat -C -b "$bs" -t "$topic" -p $p -o beginning -e -q -f '%k\t%h\n' > "$work/dlq_h$p.txt"
    kcat -C -b "$bs" -t "$topic" -p $p -o beginning -e -q -f '%R%s' > "$work/dlq_raw$p"
    pos=0 k=0 size=$(stat -c %s "$work/dlq_raw$p")
    while [ "$pos" -lt "$size" ]; do
      len=$(od -An -tu1 -N4 -j "$pos" "$work/dlq_raw$p" | awk '{print ($1*16777216)+($2*65536)+($3*256)+$4}')
      tail -c +$((pos + 5)) "$work/dlq_raw$p" | head -c "$len" > "$work/dlq_msg"
      pos=$((pos + 4 + len))
      k=$((k + 1))
      line=$(sed -n "${k}p" "$work/dlq_h$p.txt")
      key=${line%%$'\t'*} headers=${line#*$'\t'}
      reason=$(printf '%s\n' "$headers" | sed -n 's/^kpistream\.reason=\(.*\),kpistream\.source\.topic=.*$/\1/p')
      # shellcheck disable=SC2254 # SOURCE is a pattern
      case "$headers" in
        *,kpistream.source.topic=$source,kpistream.source.partition=[0-9]*,kpistream.source.offset=[0-9]*) ;;
        *) e2e_fail "dead letter without its source headers: $headers" ;;
      esac
      printf '%s %s %s\n' "$key" "$(hex "$work/dlq_msg")" "$reason" >> "$out"
    done
    [ "$k" -eq "$(wc -l < "$work/dlq_h$p.txt")" ] || e2e_fail "dead-letter partition $p: payloads and headers do not pair"
  done
}

# same_results BOOTSTRAP PROTO_DIR WORKDIR PREFIX_A PREFIX_B PLUGIN... — for each PLUGIN, the
# results on PREFIX_A.<plugin> (decoded into WORKDIR/res1_<plugin>.txt) are those on
# PREFIX_B.<plugin> (WORKDIR/res2_<plugin>.txt): the same keys and values, as many; prints a line
# per plugin
same_results() {
  local bs=$1 proto=$2 work=$3 a=$4 b=$5 f n1 n2
  shift 5
  for f in "$@"; do
    n1=$(dump_topic "$bs" "$a.$f" "$work/out1_$f")
    n2=$(dump_topic "$bs" "$b.$f" "$work/out2_$f")
    decode_results "$proto" "$work/out1_$f" | sort > "$work/res1_$f.txt"
    decode_results "$proto" "$work/out2_$f" | sort > "$work/res2_$f.txt"
    if ! diff -u "$work/res2_$f.txt" "$work/res1_$f.txt"; then
      e2e_fail "$f: results on $a.$f (+) differ from those on $b.$f (-)"
    fi
    [ "$n1" -eq "$n2" ] || e2e_fail "$f: $n1 results on $a.$f, $n2 on $b.$f"
    echo "$f: $n1 results, identical"
  done
}

# pg_start — a PostgreSQL server of Debian's packages for this script alone: initdb into a
# new temporary directory PGD (owned by an unprivileged user when run as root: nobody, or
# kpistream-pg made with useradd), listening only on a Unix socket in PGD; exports PGHOST,
# PGPORT and PGUSER (superuser kpistream, trust auth) for psql and libpq. Call pg_stop from
# the script's trap (it removes PGD).
PGD= PG_UP=
pg_start() {
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -x "$PGBIN/initdb" ] || e2e_fail "PostgreSQL server binaries not found (scripts/deps.sh installs postgresql)"
  PGD=$(mktemp -d)
  chmod 700 "$PGD"
  PG_AS=()
  if [ "$(id -u)" -eq 0 ]; then # the server refuses to run as root
    local u=nobody
    if ! id "$u" > /dev/null 2>&1; then
      u=kpistream-pg
      id "$u" > /dev/null 2>&1 || useradd --system --no-create-home "$u"
    fi
    chown "$u" "$PGD"
    PG_AS=(runuser -u "$u" --)
  fi
  "${PG_AS[@]}" "$PGBIN/initdb" -D "$PGD/data" -U kpistream --auth=trust -E UTF8 --locale=C \
    > "$PGD/initdb.log" 2>&1 || { cat "$PGD/initdb.log"; e2e_fail "initdb failed"; }
  "${PG_AS[@]}" "$PGBIN/pg_ctl" -D "$PGD/data" -l "$PGD/server.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$PGD' -c fsync=off -c max_connections=20" \
    start > /dev/null || { cat "$PGD/server.log"; e2e_fail "the PostgreSQL server did not start"; }
  PG_UP=1
  export PGHOST=$PGD PGUSER=kpistream PGPORT=5432
  unset PGPASSWORD PGSERVICE PGDATABASE
  echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on $PGD (Unix socket only)"
}
pg_stop() {
  [ -n "$PG_UP" ] && "${PG_AS[@]}" "$PGBIN/pg_ctl" -D "$PGD/data" -m immediate -w stop > /dev/null 2>&1
  PG_UP=
  [ -z "$PGD" ] || rm -rf "$PGD"
}
