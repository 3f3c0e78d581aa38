#!/usr/bin/env bash
# Sets up, builds (release) and starts sbd with its embedded defaults:
# every role in one process, login on 0.0.0.0:8888.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh -DCMAKE_BUILD_TYPE=RelWithDebInfo
exec build/bin/sbd "$@"
