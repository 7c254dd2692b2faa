#!/usr/bin/env bash
# The plugin SDK works out of tree: install kpistream into a temporary
# prefix, build examples/hello_plugin against it twice (CMake package and
# pkg-config), and load the result with `kpistream run --check-config`.
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
# 1. CMake package
cmake -S "$SRC/examples/hello_plugin" -B "$WORK/b" -DCMAKE_PREFIX_PATH="$WORK/prefix" \
  -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" > "$WORK/cfg.log"
cmake --build "$WORK/b" > "$WORK/build.log"
test -f "$WORK/b/kpi_hello.so"
# 2. pkg-config, plain compiler
PKG_CONFIG_PATH=$(dirname "$(find "$WORK/prefix" -name kpistream-plugin.pc)")
export PKG_CONFIG_PATH
cc -std=c11 -Wall -Wextra -Werror -shared -fPIC $(pkg-config --cflags kpistream-plugin) \
  "$SRC/examples/hello_plugin/hello.c" -o "$WORK/hello_pc.so"
# 3. the installed host loads it (undefined host symbols would fail here)
cat > "$WORK/k.yaml" <<YAML
input: {topics: [events.voice]}
plugin_dir: $WORK/b
plugins: [{name: hello}]
YAML
out=$("$WORK/prefix/bin/kpistream" run -c "$WORK/k.yaml" --check-config 2>&1)
case "$out" in
  *"configuration OK"*"1 plugins"*) echo "$out" | tail -1 ;;
  *) echo "$out"; echo "FAIL: installed kpistream did not load the out-of-tree plugin"; exit 1 ;;
esac
nm -D --undefined-only "$WORK/b/kpi_hello.so" | grep -v -E ' (U|w) (__|_ITM|_Jv|mem|str|calloc|malloc|free)' && {
  echo "FAIL: plugin has undefined symbols beyond libc"; exit 1; } || true
echo "SDK install, CMake package and pkg-config all work"
