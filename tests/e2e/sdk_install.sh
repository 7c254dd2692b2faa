#!/usr/bin/env bash
# The plugin SDK works out of tree: install kpistream into a temporary
# prefix, build examples/hello_plugin against it twice (CMake package and
# pkg-config), run its own test (test_hello, on the plugin test kit) with
# ctest and again built with pkg-config, install the plugin with
# `cmake --install` and load it from there with `kpistream run --check-config`.
# usage: sdk_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD=$1 SRC=$2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cmake --install "$BUILD" --prefix "$WORK/prefix" > "$WORK/install.log"
test -f "$WORK/prefix/include/kpistream/plugin.h"
test -f "$WORK/prefix/include/kpistream/service_level.h"
# the SDK helpers plugin.h includes (keys, KS_API_HAS, result setters) and
# the calendar they include
test -f "$WORK/prefix/include/kpistream/sdk.h"
test -f "$WORK/prefix/include/kpistream/calendar.h"
test -f "$WORK/prefix/include/kpistream/v1/events.pb-c.h"
test -f "$WORK/prefix/include/kpistream/testkit.h"
LIBDIR=$(dirname "$(find "$WORK/prefix" -name libkpistream_testkit.a)")
test -f "$LIBDIR/libkpistream_testkit.a"
# 1. CMake package
cmake -S "$SRC/examples/hello_plugin" -B "$WORK/b" -DCMAKE_PREFIX_PATH="$WORK/prefix" \
  -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" > "$WORK/cfg.log"
cmake --build "$WORK/b" > "$WORK/build.log" || { cat "$WORK/build.log"; exit 1; }
test -f "$WORK/b/kpi_hello.so"
# the example's own test, linked with Kpistream::testkit, through ctest
ctest --test-dir "$WORK/b" --output-on-failure > "$WORK/ctest.log" 2>&1 ||
  { cat "$WORK/ctest.log"; echo "FAIL: the example's test_hello failed out of tree"; exit 1; }
grep -q "100% tests passed, 0 tests failed out of 1" "$WORK/ctest.log" ||
  { cat "$WORK/ctest.log"; echo "FAIL: ctest did not run test_hello"; exit 1; }
# kpistream_add_plugin() installs the plugin into <prefix>/lib.../kpistream/plugins
cmake --install "$WORK/b" --prefix "$WORK/prefix" > "$WORK/install_plugin.log"
PLUGIN_DIR=$(dirname "$(find "$WORK/prefix" -name kpi_hello.so)")
test "$PLUGIN_DIR" = "$LIBDIR/kpistream/plugins"
# 2. pkg-config, plain compiler
PKG_CONFIG_PATH=$(dirname "$(find "$WORK/prefix" -name kpistream-plugin.pc)")
export PKG_CONFIG_PATH
cc -std=c11 -Wall -Wextra -Werror -shared -fPIC $(pkg-config --cflags kpistream-plugin) \
  "$SRC/examples/hello_plugin/hello.c" -o "$WORK/hello_pc.so"
# the test again, linked through pkg-config kpistream-testkit
cc -std=c11 -Wall -Wextra -Werror -DHELLO_PLUGIN="\"$WORK/hello_pc.so\"" \
  $(pkg-config --cflags kpistream-testkit) "$SRC/examples/hello_plugin/test_hello.c" \
  -o "$WORK/test_hello_pc" $(pkg-config --libs kpistream-testkit)
"$WORK/test_hello_pc"
# 3. the installed host loads it (undefined host symbols would fail here)
cat > "$WORK/k.yaml" <<YAML
input: {topics: [events.voice]}
plugin_dir: $PLUGIN_DIR
plugins: [{name: hello}]
YAML
out=$("$WORK/prefix/bin/kpistream" run -c "$WORK/k.yaml" --check-config 2>&1)
case "$out" in
  *"configuration OK"*"1 plugins"*) echo "$out" | tail -1 ;;
  *) echo "$out"; echo "FAIL: installed kpistream did not load the out-of-tree plugin"; exit 1 ;;
esac
# every undefined symbol is libc's or libm's (versioned GLIBC_*), or weak;
# a host symbol would be unversioned
nm -D --undefined-only "$WORK/b/kpi_hello.so" | grep -v -E ' w |@GLIBC_' && {
  echo "FAIL: plugin has undefined symbols beyond libc and libm"; exit 1; } || true
nm -D --undefined-only "$WORK/b/kpi_hello.so" | grep -q '@GLIBC_' ||
  { echo "FAIL: the symbol check saw no libc symbol at all"; exit 1; }
echo "SDK install, CMake package, pkg-config, the test kit and plugin install all work"
