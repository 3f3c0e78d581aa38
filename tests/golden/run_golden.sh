#!/usr/bin/env bash
# run_golden.sh: our own golden cases (tests/golden/cases/NN-name.in and
# .out). Each case runs on its own fresh sbd and must print exactly the
# .out file, delivered <<<...>>> lines included.
# Usage: SB_BIN_DIR=build/bin run_golden.sh [case-name-pattern]
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${SB_BIN_DIR:?set SB_BIN_DIR to build/bin}"
. "$here/golden_lib.sh"
need_binaries
trap sbd_stop EXIT
trap 'exit 1' INT TERM

pattern=${1:-}
pass=0 fail=0
work=$(mktemp -d "${TMPDIR:-/tmp}/sb-golden-out.XXXXXX")
for in in "$here"/cases/*.in; do
    name=$(basename "$in" .in)
    case "$name" in *"$pattern"*) ;; *) continue ;; esac
    if ! sbd_start; then
        echo "FAIL $name: sbd did not start"; fail=$((fail + 1)); sbd_stop
        continue
    fi
    run_case "$in" "$work/$name.actual"; rc=$?
    if diff -u "$here/cases/$name.out" "$work/$name.actual" >"$work/$name.diff" &&
       [ $rc = 0 ]; then
        echo "ok   $name"; pass=$((pass + 1))
    else
        echo "FAIL $name (sb exit $rc; 124 = timed out)"
        cat "$work/$name.diff"; fail=$((fail + 1))
        echo "--- sbd log (tail)"; tail -n 20 "$SBD_DIR/sbd.log"
    fi
    sbd_stop
done
rm -rf "$work"
echo "golden: $pass passed, $fail failed"
[ $fail = 0 ] && [ $pass -gt 0 ]
