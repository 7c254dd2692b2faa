#!/usr/bin/env bash
# `cpack -G DEB` builds a Debian package (issue 14): the files are where
# Debian wants them (/usr/bin, /usr/lib/kpistream/plugins, /etc/kpistream as a
# conffile, the unit under /usr/lib/systemd/system), the dependencies come
# from dpkg-shlibdeps (librdkafka, libuv, libyaml, libprotobuf-c), and the
# binary unpacked from it runs and finds its plugins with no path override.
# usage: package_deb.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD=$1 SRC=$2
. "$SRC/tests/e2e/lib.sh"
for tool in cpack dpkg-deb dpkg-shlibdeps; do
  command -v $tool > /dev/null || e2e_fail "$tool is not installed (dpkg-dev, cmake)"
done
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$WORK/out" > cpack.log 2>&1) ||
  { cat "$WORK/cpack.log"; e2e_fail "cpack -G DEB failed"; }
deb=$(ls "$WORK"/out/kpistream_*.deb)
files=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's#^\./#/#')
for f in /usr/bin/kpistream /usr/lib/kpistream/plugins/kpi_operations.so \
  /usr/lib/systemd/system/kpistream.service /etc/kpistream/kpistream.yaml \
  /usr/share/man/man1/kpistream.1 /usr/share/bash-completion/completions/kpistream \
  /usr/include/kpistream/plugin.h /usr/share/doc/kpistream/README.md; do
  grep -qx -- "$f" <<< "$files" || { echo "$files"; e2e_fail "the package lacks $f"; }
done
bad=$(grep -vE '^/(usr|etc)(/|$)' <<< "$files" | grep -v '^/$' || true)
[ -z "$bad" ] || e2e_fail "the package installs outside /usr and /etc: $bad"
info=$(dpkg-deb -I "$deb")
dep=$(dpkg-deb -f "$deb" Depends)
for lib in librdkafka1 libuv1 libyaml-0-2 libprotobuf-c1 libmicrohttpd12 libc6; do
  grep -q "$lib" <<< "$dep" || { echo "$info"; e2e_fail "Depends lacks $lib: $dep"; }
done
grep -qx /etc/kpistream/kpistream.yaml <(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles) ||
  e2e_fail "/etc/kpistream/kpistream.yaml is not a conffile"
ctrl=$(dpkg-deb --ctrl-tarfile "$deb" | tar -tv)
grep -qE '^-rwxr-xr-x .* \./postinst$' <<< "$ctrl" || { echo "$ctrl"; e2e_fail "no executable postinst"; }
dpkg-deb -x "$deb" "$WORK/root"
grep -qF "ExecStart=/usr/bin/kpistream run -c /etc/kpistream/kpistream.yaml" \
  "$WORK/root/usr/lib/systemd/system/kpistream.service" || e2e_fail "the unit's paths are not /usr, /etc"
"$WORK/root/usr/bin/kpistream" --version | grep -q '^kpistream ' || e2e_fail "unpacked binary --version"
out=$("$WORK/root/usr/bin/kpistream" run -c "$WORK/root/etc/kpistream/kpistream.yaml" --check-config 2>&1) ||
  { echo "$out"; e2e_fail "unpacked binary --check-config"; }
grep -q "from $WORK/root/usr/lib/kpistream/plugins/kpi_operations.so" <<< "$out" ||
  { echo "$out"; e2e_fail "unpacked binary did not load its own plugins"; }
echo "$(basename "$deb"): $(wc -l <<< "$files") entries; Depends: $dep"
echo "package OK"
