#!/usr/bin/env bash
# Every external symbol a library of the service or a tool defines starts
# with ks_ (the sanitizer's and the fuzzer's instrumentation symbols for
# them aside): usage symbols_prefixed.sh LIBRARY.a...
set -euo pipefail
bad=0
for lib in "$@"; do
  found=$(nm -g --defined-only "$lib" |
    awk 'NF == 3 && $3 !~ /^(ks_|__odr_asan\.ks_|__sancov_)/ { print $3 }' | sort -u)
  if [ -n "$found" ]; then
    echo "$lib: external symbols without the ks_ prefix:" $found >&2
    bad=1
  fi
done
exit $bad
