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

# The web client's browser tests: Debian's chromium (never a downloaded
# browser), Node.js and npm, and puppeteer-core from the committed lock
# file. Optional: where chromium cannot be installed the browser test
# says so and is skipped.
web_pkgs=()
command -v chromium >/dev/null || web_pkgs+=(chromium)
command -v node >/dev/null || web_pkgs+=(nodejs)
command -v npm >/dev/null || web_pkgs+=(npm)
if ((${#web_pkgs[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${web_pkgs[*]} (browser tests)" >&2
  { $SUDO apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${web_pkgs[@]}"; } ||
    echo "setup: could not install ${web_pkgs[*]}: the browser tests will be skipped" >&2
fi
browser_dir="$(dirname "$0")/../tests/web/browser"
if command -v npm >/dev/null && [ -f "$browser_dir/package-lock.json" ] &&
   { [ ! -f "$browser_dir/node_modules/.package-lock.json" ] ||
     [ "$browser_dir/package-lock.json" -nt "$browser_dir/node_modules/.package-lock.json" ]; }; then
  echo "setup: npm ci in tests/web/browser (puppeteer-core; no browser download)" >&2
  (cd "$browser_dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) ||
    echo "setup: npm ci failed: the browser tests will be skipped" >&2
fi
