#!/usr/bin/env bash
# The README's test command: install what is missing, build, run the whole
# suite (unit + end-to-end) twice, a normal build and an ASan+UBSan build,
# the concurrent tests under ThreadSanitizer, then the fuzz targets for a
# bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo
ctest --test-dir build --output-on-failure -j 2
bash scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DKS_SANITIZE=ON -DKS_BUILD_BENCH=OFF
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j 2
# ThreadSanitizer (processing.threads, issue 16): only what the concurrent
# tests need, and only those: the worker pool, and one engine driven from two
# threads with every plugin family. (`kpistream run` and `broker` cannot run
# under TSan here: the runtime crashes in librdkafka's own threads, seen with
# GCC 12 and Debian's librdkafka 2.0; e2e_threads checks the runner's
# threads in the other two builds.)
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKS_TSAN=ON -DKS_BUILD_BENCH=OFF \
  > build-tsan.configure.log 2>&1 || { cat build-tsan.configure.log; exit 1; }
cmake --build build-tsan -j "$(nproc)" --target test_workers test_engine_threads kpi_operations \
  kpi_experience kpi_workforce kpi_quality kpi_value kpi_forecast kpi_scorecard
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir build-tsan -R '^(test_workers|test_engine_threads)$' --output-on-failure -j 2
# libFuzzer targets (decoder + engine + operations plugin; the single-pass
# decoder against protobuf-c; config parser),
# each for a bounded time from the seed corpus in fuzz/corpus/.
bash scripts/build.sh build-fuzz -DCMAKE_C_COMPILER=clang -DKS_FUZZ=ON -DKS_BUILD_TESTS=OFF \
  -DKS_BUILD_BENCH=OFF
ctest --test-dir build-fuzz --output-on-failure -j 2
