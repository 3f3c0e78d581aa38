#!/usr/bin/env bash
# run_conformance.sh: the course cases in ../shared/conformance/np2018, in
# the order its README gives: 1 then 2 on one fresh server; 3 on its own;
# 4, 5, 6 on one fresh server. Compared after removing every line that
# starts with <<< (the README: delivered messages are checked apart).
# Usage: SB_BIN_DIR=build/bin SB_SHARED_DIR=../shared run_conformance.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${SB_BIN_DIR:?set SB_BIN_DIR to build/bin}"
if [ -z "${SB_SHARED_DIR:-}" ] || [ ! -d "$SB_SHARED_DIR/conformance/np2018" ]; then
    echo "SKIP: no ../shared/conformance/np2018"
    exit 77
fi
. "$here/golden_lib.sh"
need_binaries
trap sbd_stop EXIT
trap 'exit 1' INT TERM

cases=$SB_SHARED_DIR/conformance/np2018
work=$(mktemp -d "${TMPDIR:-/tmp}/sb-conf-out.XXXXXX")
pass=0 fail=0
for group in "1 2" "3" "4 5 6"; do
    if ! sbd_start; then
        echo "FAIL group $group: sbd did not start"; fail=$((fail + 1)); sbd_stop
        continue
    fi
    for n in $group; do
        run_case "$cases/$n.in" "$work/$n.raw"; rc=$?
        grep -v '^<<<' "$work/$n.raw" >"$work/$n.actual"
        if diff -u "$cases/$n.out" "$work/$n.actual" >"$work/$n.diff" &&
           [ $rc = 0 ]; then
            echo "ok   np2018/$n"; pass=$((pass + 1))
        else
            echo "FAIL np2018/$n (sb exit $rc; 124 = timed out)"
            cat "$work/$n.diff"; fail=$((fail + 1))
            echo "--- sbd log (tail)"; tail -n 20 "$SBD_DIR/sbd.log"
        fi
    done
    sbd_stop
done
rm -rf "$work"
echo "conformance: $pass passed, $fail failed"
[ $fail = 0 ]
