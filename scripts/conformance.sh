#!/usr/bin/env bash
# Runs the course's conformance cases (../shared/conformance/np2018) as
# their README says: 1 then 2 on one fresh sbd, 3 on its own, 4, 5, 6 on
# one fresh sbd. Each sbd gets a fresh, temporary data dir (removed after),
# so what you tried by hand in ./data cannot change the output. Sets up
# and builds build/ first (quick when up to date), unless SB_BIN_DIR names
# the binaries to use.
# usage: bash scripts/conformance.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${SB_BIN_DIR:-}" ]; then
    bash scripts/setup.sh
    BUILD_DIR=build bash scripts/build.sh >/dev/null
    SB_BIN_DIR=$PWD/build/bin
fi
SB_SHARED_DIR=${SB_SHARED_DIR:-$(cd .. && pwd)/shared}
export SB_BIN_DIR SB_SHARED_DIR
exec bash tests/golden/run_conformance.sh
