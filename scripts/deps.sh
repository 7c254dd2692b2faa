#!/usr/bin/env bash
# Install what kpistream needs from Debian's packages, only what is missing.
# Sourced by scripts/demo.sh and scripts/test.sh; safe to run on its own.
set -euo pipefail
KS_PACKAGES=(build-essential cmake pkg-config
  librdkafka-dev libprotobuf-c-dev protobuf-c-compiler libuv1-dev libyaml-dev libcmocka-dev
  libmicrohttpd-dev libjansson-dev libpq-dev postgresql
  python3 python3-yaml curl man-db jq kcat protobuf-compiler valgrind clang libclang-rt-14-dev)
missing=()
for p in "${KS_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
