#!/usr/bin/env bash
# Installs the Debian packages Switchboard needs to build, test and run,
# only those that are missing (apt-get update runs only when it must).
set -euo pipefail

PKGS=(build-essential cmake pkg-config git
      protobuf-c-compiler libprotobuf-c-dev protobuf-compiler libprotobuf-dev
      libnng-dev liblmdb-dev lmdb-utils libcurl4-openssl-dev libsodium-dev
      libssl-dev openssl libxml2-dev libcmocka-dev libedit-dev
      redis-server redis-tools tmux iproute2 procps curl python3
      clang-format libmicrohttpd-dev libjansson-dev zlib1g-dev)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present" >&2
fi
