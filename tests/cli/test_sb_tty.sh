#!/usr/bin/env bash
# test_sb_tty.sh: script mode at a terminal (tmux, on 127.0.0.1), as
# redis-cli is: the prompt HOST:PORT>, `help` and `help <command>` from
# the command table, commands with their usual replies, a message that
# arrives while a line is half typed shown above it (the line intact),
# history across runs without the lines holding passwords, ^D ends it
# with exit 0. Piped, the same `help` line is still "Unknown command
# help" (the course's output does not change).
set -u
: "${SB_BIN_DIR:?}" "${SB_SOURCE_DIR:?}"
. "$SB_SOURCE_DIR/tests/integration/chat_lib.sh"
command -v tmux >/dev/null || { echo "SKIP: tmux not installed"; exit 77; }
T=sbtty$$
H=$WRAP_BIN/history
trap 'tmux kill-session -t $T 2>/dev/null; sbd_stop; rm -rf "$WRAP_BIN"' EXIT
fail() { echo "FAIL: $*"; pane 2>/dev/null; exit 1; }
start_sb() {
    tmux kill-session -t $T 2>/dev/null
    tmux new-session -d -s $T -x 120 -y 50 \
        "SB_HISTFILE=$H $SB_BIN_DIR/sb 127.0.0.1 $SBD_PORT; echo EXIT=\$?; sleep 30" ||
        fail "tmux"
}
chat_sbd_start || fail "sbd did not start"
P="127.0.0.1:$SBD_PORT> "
start_sb
wait_for 10 last_row "${P% }" || fail "no prompt $P"
tmux send-keys -t $T "help" Enter
wait_for 10 has "help <command>: more on one." || fail "help"
for c in register login invite send-group set-profile whoami exit; do
    pane | grep -qE "^  $c( |$)" || fail "help does not list $c"
done
tmux send-keys -t $T "clear" Enter
wait_for 10 tmux send-keys -t $T C-l "help send-group" Enter
wait_for 10 has "send-group: a message to every member of a group." || fail "help send-group"
has "Usage: send-group <user> <group> <message>" || fail "help send-group: usage"
tmux send-keys -t $T "help nosuch" Enter
wait_for 10 has "No command nosuch (help lists them)" || fail "help nosuch"
tmux send-keys -t $T "register tina secret1" Enter "login tina secret1" Enter
wait_for 10 bash -c "[ \$(tmux capture-pane -p -t $T | grep -c '^Success!$') = 2 ]" ||
    fail "register and login"
echo "ok   prompt, help, help <command>, commands"

# a message while tina types: above the prompt, her line intact
printf 'register ulf pw\nlogin ulf pw\n' | "$SB_BIN_DIR/sb" 127.0.0.1 $SBD_PORT >/dev/null
tmux send-keys -t $T "list-use"
wait_for 10 last_row "${P}list-use" || fail "typing not shown"
printf 'login ulf pw\nprivate ulf tina psst\n' | "$SB_BIN_DIR/sb" 127.0.0.1 $SBD_PORT >/dev/null
wait_for 10 has "<<<ulf->tina: psst>>>" || fail "the message did not arrive while typing"
wait_for 5 last_row "${P}list-use" || fail "the half-typed line was not kept"
[ "$(pane | grep -v '^$' | tail -n 2 | head -n 1)" = "<<<ulf->tina: psst>>>" ] ||
    fail "the message is not right above the prompt"
tmux send-keys -t $T "rs tina" Enter
wait_for 10 has "ulf online" || fail "the finished line did not run"
echo "ok   a message mid-line goes above it"

tmux send-keys -t $T C-d
wait_for 10 has "EXIT=0" || fail "^D did not end sb with 0"
grep -q "secret1" "$H" && fail "a password went into the history file"
grep -q "list-users" "$H" || fail "no history file"
start_sb
wait_for 10 last_row "${P% }" || fail "no prompt the second time"
tmux send-keys -t $T Up
wait_for 5 last_row "${P}list-users tina" || fail "history not kept across runs"
tmux send-keys -t $T C-u "exit" Enter
wait_for 10 has "EXIT=0" || fail "exit did not end sb with 0"
echo "ok   history across runs, none of the passwords; ^D and exit"

out=$(printf 'help\nhelp invite\n' | "$SB_BIN_DIR/sb" 127.0.0.1 $SBD_PORT)
[ "$out" = $'Unknown command help\nUnknown command help' ] ||
    fail "piped script mode changed: $out"
echo "ok   piped: unchanged"
