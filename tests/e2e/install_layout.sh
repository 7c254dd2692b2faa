#!/usr/bin/env bash
# The installation is complete and self-contained (issue 14):
#  1. DESTDIR staging of `cmake --install --prefix P` puts everything under
#     DESTDIR/P: binary, plugins, headers, .pc, man page, bash completion,
#     systemd unit, docs, configuration; nothing outside it.
#  2. The staged binary finds its own plugins (relative to itself) with no
#     path override: --version, --check-config of the installed configuration,
#     and a short `run` against the embedded broker.
#  3. The man page renders with no warning and names every subcommand and
#     every option of `run`; the completion completes subcommands and options.
#  4. The unit: Type=notify, WatchdogSec, ExecReload sends SIGHUP, the paths
#     of this install; `systemd-analyze verify` and `security --offline`
#     (exposure <= 2.0) where systemd-analyze exists.
# usage: install_layout.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD=$1 SRC=$2
. "$SRC/tests/e2e/lib.sh"
WORK=$(mktemp -d)
BROKER_PID=
cleanup() {
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
P=/opt/kpistream-test
DESTDIR="$WORK/stage" cmake --install "$BUILD" --prefix "$P" > "$WORK/install.log"
R="$WORK/stage$P"
# 1. everything under the prefix
outside=$(cd "$WORK/stage" && find . -type f | grep -v "^\.$P/" || true)
[ -z "$outside" ] || e2e_fail "installed outside the prefix $P: $outside"
for f in bin/kpistream include/kpistream/plugin.h include/kpistream/v1/events.pb-c.h \
  lib/pkgconfig/kpistream-plugin.pc lib/kpistream/plugins/kpi_operations.so \
  share/man/man1/kpistream.1 share/bash-completion/completions/kpistream \
  lib/systemd/system/kpistream.service etc/kpistream/kpistream.yaml \
  share/doc/kpistream/README.md share/doc/kpistream/configuration.md; do
  [ -f "$R/$f" ] || e2e_fail "not installed: $P/$f"
done
nplug=$(ls "$R"/lib/kpistream/plugins/kpi_*.so | wc -l)
[ "$nplug" -ge 6 ] || e2e_fail "only $nplug plugins installed"
# the .pc file's plugin dir is where the plugins are
pcdir=$(PKG_CONFIG_PATH="$R/lib/pkgconfig" pkg-config --variable=plugindir kpistream-plugin)
[ "$(cd "$pcdir" && pwd -P)" = "$(cd "$R/lib/kpistream/plugins" && pwd -P)" ] ||
  e2e_fail "kpistream-plugin.pc plugindir $pcdir is not the installed plugin dir"
echo "layout: everything under $P ($nplug plugins)"

# 2. the staged binary with no path overrides
"$R/bin/kpistream" --version | grep -q '^kpistream [0-9]' || e2e_fail "--version"
out=$("$R/bin/kpistream" run -c "$R/etc/kpistream/kpistream.yaml" --check-config 2>&1) ||
  { echo "$out"; e2e_fail "--check-config of the installed configuration failed"; }
case "$out" in *"configuration OK"*"6 plugins"*) ;; *) echo "$out"; e2e_fail "check-config said: $out" ;; esac
echo "$out" | grep -q "from $R/lib/kpistream/plugins/kpi_operations.so" ||
  { echo "$out"; e2e_fail "plugins not loaded from the installed plugin dir"; }
"$R/bin/kpistream" broker --partitions 2 --bootstrap-file "$WORK/bootstrap" --exit-after 120 \
  > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_file "$WORK/bootstrap" 30
cat > "$WORK/k.yaml" <<YAML
kafka: {consumer: {group.id: install, session.timeout.ms: 6000}}
input: {topics: [events.voice]}
plugins: [{name: operations}]
stats_interval: 0s
YAML
(cd "$WORK" && timeout 120 "$R/bin/kpistream" run -c k.yaml --bootstrap-file bootstrap --until-eof \
  > run.log 2>&1) || { cat "$WORK/run.log"; e2e_fail "short run from the installed tree failed"; }
grep -q "stopped: events 0," "$WORK/run.log" || { cat "$WORK/run.log"; e2e_fail "run summary"; }
echo "installed binary: --version, --check-config and a short run, no path overrides"

# 3. man page and completion
man_warn=$(MANWIDTH=80 man --warnings -l "$R/share/man/man1/kpistream.1" 2>&1 >/dev/null)
[ -z "$man_warn" ] || e2e_fail "man page warnings: $man_warn"
page=$(MANWIDTH=80 man -l "$R/share/man/man1/kpistream.1" 2>/dev/null | col -b)
for c in $("$R/bin/kpistream" --help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p'); do
  grep -qE "^ {7}$c( |$)" <<< "$page" || e2e_fail "man page does not describe the subcommand '$c'"
done
for o in $("$R/bin/kpistream" run --help | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
  grep -q -- "$o" <<< "$page" || e2e_fail "man page does not describe run's option $o"
done
comp=$(bash -c '
  . "$1/share/bash-completion/completions/kpistream"
  complete -p kpistream
  COMP_WORDS=("$1/bin/kpistream" ""); COMP_CWORD=1; _kpistream; echo "cmds: ${COMPREPLY[*]}"
  COMP_WORDS=("$1/bin/kpistream" run --ch); COMP_CWORD=2; _kpistream; echo "run: ${COMPREPLY[*]}"
  COMP_WORDS=("$1/bin/kpistream" run --log-level d); COMP_CWORD=3; _kpistream; echo "level: ${COMPREPLY[*]}"
' _ "$R")
for want in "complete -F _kpistream kpistream" "cmds: run broker simulate watch dump" \
  "run: --check-config" "level: debug"; do
  grep -qF -- "$want" <<< "$comp" || { echo "$comp"; e2e_fail "completion: expected '$want'"; }
done
echo "man page renders without warnings and names every command and run option; completion works"

# 4. the unit
U="$R/lib/systemd/system/kpistream.service"
for line in "Type=notify" "WatchdogSec=" "ExecReload=/bin/kill -HUP \$MAINPID" "DynamicUser=yes" \
  "ExecStart=$P/bin/kpistream run -c $P/etc/kpistream/kpistream.yaml"; do
  grep -qF -- "$line" "$U" || e2e_fail "unit lacks '$line'"
done
if command -v systemd-analyze > /dev/null; then
  # verify against the staged tree: the unit's paths point into it
  sed "s#$P/#$R/#g; s#^Documentation=.*#Documentation=man:kpistream(1)#" "$U" > "$WORK/kpistream.service"
  v=$(cd "$WORK" && MANPATH="$R/share/man" systemd-analyze verify ./kpistream.service 2>&1) ||
    { echo "$v"; e2e_fail "systemd-analyze verify"; }
  [ -z "$v" ] || { echo "$v"; e2e_fail "systemd-analyze verify warned"; }
  sec=$(cd "$WORK" && systemd-analyze security --offline=yes ./kpistream.service 2>&1 | tail -1)
  score=$(sed -n 's/.*exposure level for .*: \([0-9.]*\) .*/\1/p' <<< "$sec")
  [ -n "$score" ] || e2e_fail "no exposure score in: $sec"
  awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || e2e_fail "exposure $score > 2.0"
  echo "systemd-analyze verify: clean; security --offline exposure $score"
else
  echo "systemd-analyze not installed: unit checked statically only"
fi
echo "install layout OK"
