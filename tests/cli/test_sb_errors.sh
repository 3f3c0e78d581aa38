#!/usr/bin/env bash
# test_sb_errors.sh: what `sb` says and returns when things go wrong, in
# every mode: nothing listening (connection refused) and a host that does
# not exist (.invalid never resolves) give one line on stderr, at once,
# and exit 1; bad usage exits 2; a server that goes away mid-script turns
# the next reply into "cannot connect to ..." and the exit status into 1;
# `sb draw` and script mode say a draw error in the same words. Also
# `sb --help` lists every script command.
set -u
: "${SB_BIN_DIR:?}" "${SB_SOURCE_DIR:?}"
. "$SB_SOURCE_DIR/tests/golden/golden_lib.sh"
need_binaries
SB=$SB_BIN_DIR/sb
T=$(mktemp -d "${TMPDIR:-/tmp}/sb-errors.XXXXXX")
DRAW_PID=
trap '[ -n "$DRAW_PID" ] && kill $DRAW_PID 2>/dev/null; sbd_stop; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; for f in out err; do [ -f "$T/$f" ] && { echo "--- $f"; cat "$T/$f"; }; done; exit 1; }
# expect STATUS STDERR-LINE CMD...: exit status and the whole stderr
expect() {
    local want=$1 line=$2; shift 2
    local t0=$SECONDS
    timeout 20 "$@" </dev/null >"$T/out" 2>"$T/err"; local rc=$?
    [ "$rc" = "$want" ] || fail "$* exited $rc, want $want"
    [ -z "$line" ] || [ "$(cat "$T/err")" = "$line" ] || fail "$*: stderr is not '$line'"
    [ $((SECONDS - t0)) -le 3 ] || fail "$* took $((SECONDS - t0)) s to say so"
}

pick_ports || fail "no free port"
dead=$SBD_PORT # nothing listens there (pick_ports checked)
for mode in "" chat draw; do
    expect 1 "sb: cannot connect to 127.0.0.1:$dead: connection refused" $SB $mode 127.0.0.1 $dead
    [ -s "$T/out" ] && fail "sb $mode: a refused connection printed on stdout"
    expect 1 "sb: cannot connect to nosuchhost.invalid:8888: unknown host" $SB $mode nosuchhost.invalid 8888
done
expect 2 "" $SB
grep -q "^usage:" "$T/err" || fail "no usage on bad usage"
expect 2 "sb: bad port 'x' (1..65535)" $SB 127.0.0.1 x
expect 2 "sb: bad port '70000' (1..65535)" $SB draw 127.0.0.1 70000
expect 2 "" $SB --bogus
grep -q "^sb: unknown option --bogus" "$T/err" || fail "unknown option"
expect 2 "" $SB chat 127.0.0.1
echo "ok   refused, unknown host: one line, exit 1; bad usage: exit 2"

# sb --help: every command of the table, with its arguments
$SB --help >"$T/out" || fail "sb --help exited $?"
for c in register login delete logout invite list-invite accept-invite \
         list-friend post receive-post send create-group list-group \
         list-joined join-group send-group create-room join-room leave-room \
         list-rooms delete-room say private list-users set-profile \
         show-profile time draw whoami exit; do
    grep -qE "^  $c( |$)" "$T/out" || fail "sb --help does not list $c"
    grep -qF ".BI \"$(echo $c | sed 's/-/\\-/g') " "$SB_SOURCE_DIR/packaging/sb.1" ||
        [ $c = exit ] || fail "sb.1 does not document $c"
done
grep -q "^  send-group <user> <group> <message>" "$T/out" || fail "sb --help: arguments"
echo "ok   sb --help lists the commands"

# The server goes away in the middle of a script.
sbd_start || fail "sbd did not start"
mkfifo "$T/in"
timeout 60 $SB 127.0.0.1 $SBD_PORT <"$T/in" >"$T/out" 2>"$T/err" &
sb_pid=$!
exec 3>"$T/in"
printf 'register eve pw\nlogin eve pw\nlist-friend eve\n' >&3
for i in $(seq 1 100); do [ "$(wc -l <"$T/out")" -ge 3 ] && break; sleep 0.1; done
[ "$(cat "$T/out")" = $'Success!\nSuccess!\nNo friends' ] || fail "before the stop"
sbd_stop
printf 'list-friend eve\n' >&3
exec 3>&-
wait $sb_pid; rc=$?
[ $rc = 1 ] || fail "sb exited $rc after the server went away, want 1"
tail -n 1 "$T/out" | grep -qE "^cannot connect to 127\.0\.0\.1:[0-9]+: connection refused$" ||
    fail "the reply after the stop is not 'cannot connect to ...'"
grep -q "lost the connection\|deadline exceeded" "$T/out" && fail "the runtime's words reached the user"
grep -qx "sb: some commands could not reach the server" "$T/err" || fail "no summary on stderr"
echo "ok   server gone mid-script: cannot connect, exit 1"

# One wording per error: sb draw says what script mode's draw says.
sbd_start || fail "sbd did not start"
out=$(printf 'register d pw\nlogin d pw\ndraw d 0\ndraw d 10001\n' | $SB 127.0.0.1 $SBD_PORT)
script_count=$(echo "$out" | sed -n 3p)
[ "$script_count" = "Count must be between 1 and 10000" ] || fail "script mode's draw 0: $out"
[ "$(echo "$out" | sed -n 4p)" = "$script_count" ] || fail "script mode's draw 10001"
sbd_stop
pick_ports || fail "no free port"
"$SB_BIN_DIR/sbd" draw --data-dir "$T/draw" --pool-size 3 --host 127.0.0.1 \
    --base-port $SBD_PORT 2>"$T/draw.log" &
DRAW_PID=$!
wait_accepts $((SBD_PORT + 1)) $DRAW_PID || fail "sbd draw did not start: $(tail -5 "$T/draw.log")"
out=$(printf 'draw 0\ndraw 4\ndraw 2\ndraw 2\ndraw 1\ndraw 1\nnonsense\n' | $SB draw 127.0.0.1 $((SBD_PORT + 1)))
[ "$(echo "$out" | sed -n 1p)" = "$script_count" ] || fail "sb draw says a bad count otherwise: $out"
[ "$(echo "$out" | sed -n 2p)" = "Only 3 numbers left" ] || fail "sb draw 4 of 3: $out"
[ "$(echo "$out" | sed -n 5p)" = "Only 1 number left" ] || fail "sb draw 2 of 1: $out"
[ "$(echo "$out" | sed -n 7p)" = "No numbers left" ] || fail "sb draw of an empty pool: $out"
[ "$(echo "$out" | sed -n 8p)" = "Usage: draw <count>" ] || fail "sb draw usage: $out"
kill $DRAW_PID; wait $DRAW_PID 2>/dev/null; DRAW_PID=
echo "ok   sb draw and script mode: one wording"
