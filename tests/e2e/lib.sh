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
    tail -c +$((pos + 5)) "$raw" | head -c "$len" > "$(printf '%s/%04d.bin' "$out" "$n")"
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
