#!/usr/bin/env bash
# The README's test command: install what is missing, build, run the whole
# suite (unit + end-to-end) twice, a normal build and an ASan+UBSan build,
# then the fuzz targets for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo
ctest --test-dir build --output-on-failure -j 2
bash scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DKS_SANITIZE=ON -DKS_BUILD_BENCH=OFF
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j 2
# libFuzzer targets (decoder + engine + operations plugin; the single-pass
# decoder against protobuf-c; config parser),
# each for a bounded time from the seed corpus in fuzz/corpus/.
bash scripts/build.sh build-fuzz -DCMAKE_C_COMPILER=clang -DKS_FUZZ=ON -DKS_BUILD_TESTS=OFF \
  -DKS_BUILD_BENCH=OFF
ctest --test-dir build-fuzz --output-on-failure -j 2
