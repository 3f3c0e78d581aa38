#!/usr/bin/env bash
# Runs sb-bench from an optimised build: sets up, builds build-rel/
# (Release; quick when up to date), then `build-rel/bin/sb-bench ARGS`.
# `draw-procs [SECONDS] [ROUNDS]` runs bench/draw_vs_redis_procs.sh on it.
# usage: bash scripts/bench.sh rpc --clients 16 --seconds 2
#        bash scripts/bench.sh draw-procs 4 3
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
BUILD_DIR=build-rel bash scripts/build.sh -DCMAKE_BUILD_TYPE=Release >/dev/null
if [ "${1:-}" = draw-procs ]; then
    shift
    exec bash bench/draw_vs_redis_procs.sh build-rel/bin "$@"
fi
exec build-rel/bin/sb-bench "$@"
