#!/usr/bin/env bash
# test_chat_term.sh: `sb chat` in a real terminal (tmux, on 127.0.0.1):
# register through the form, say, a message that arrives while a line is
# half typed (or wraps) leaves that line and the cursor intact, room-closed
# notices and the room in the prompt, #commands; then `sb chat` without a
# terminal (a fifo). Then the clock: an sbd whose clock is skewed by
# --test-clock-skew-ms is measured by `time` within a few ms; and an idle
# session times out with its room, whose member gets the notice.
set -u
: "${SB_BIN_DIR:?}" "${SB_SOURCE_DIR:?}"
. "$SB_SOURCE_DIR/tests/integration/chat_lib.sh"
command -v tmux >/dev/null || { echo "SKIP: tmux not installed"; exit 77; }
T=sbchat$$
CHAT_PID=
trap '[ -n "$CHAT_PID" ] && kill $CHAT_PID 2>/dev/null; tmux kill-session -t $T 2>/dev/null; sbd_stop; rm -rf "$WRAP_BIN"' EXIT
fail() { echo "FAIL: $*"; tmux capture-pane -p -t $T 2>/dev/null; exit 1; }
# prompt_is TEXT COL: the last non-empty row is TEXT and the cursor is on
# that row at column COL (capture-pane drops trailing blanks: so does TEXT)
prompt_is() {
    local rows last cx cy want
    want=$(printf '%s' "$1" | sed 's/ *$//')
    set -- "$want" "$2"
    rows=$(pane)
    last=$(printf '%s\n' "$rows" | grep -v '^$' | tail -n 1)
    [ "$last" = "$1" ] || return 1
    cx=$(tmux display -p -t $T '#{cursor_x}')
    cy=$(tmux display -p -t $T '#{cursor_y}')
    [ "$cx" = "$2" ] || return 1
    [ "$(printf '%s\n' "$rows" | sed -n "$((cy + 1))p")" = "$1" ]
}

chat_sbd_start || fail "sbd did not start"
tmux new-session -d -s $T -x 120 -y 40 \
    "TZ=UTC $SB_BIN_DIR/sb chat 127.0.0.1 $SBD_PORT; sleep 30" || fail tmux
wait_for 10 has "(l)ogin or (r)egister?" || fail "no form"
for k in r Alice Smith alice secret secret 30 female; do
    tmux send-keys -t $T "$k" Enter; sleep 0.2
done
wait_for 10 has "You are in lobby" || fail "not in lobby"
pane | grep -q "secret" && fail "the password was echoed"
tmux send-keys -t $T "hello everyone" Enter
wait_for 10 has "alice: hello everyone" || fail "own say not shown"
pane | grep -qE '^\[[0-9]{2}:[0-9]{2}:[0-9]{2}\] alice: hello everyone' ||
    fail "say not shown as [HH:MM:SS] name: text"
# bob, a script-mode user in lobby, talks while alice types
printf 'register bob pw\nlogin bob pw\n' | "$SB_BIN_DIR/sb" 127.0.0.1 $SBD_PORT >/dev/null
# alice types "half typed" and moves the cursor back before "typed"
tmux send-keys -t $T "half typed" Left Left Left Left Left
wait_for 10 prompt_is 'lobby> half typed' 12 || fail "typing not shown ($(cursor))"
printf 'login bob pw\nsay bob ping from bob\nprivate bob alice psst\n' |
    "$SB_BIN_DIR/sb" 127.0.0.1 $SBD_PORT >/dev/null
wait_for 10 has "(private) bob: psst" || fail "private did not arrive"
# each delivery on its own row above the prompt, the typed text intact on
# the prompt row and the cursor still before "typed" (column 12)
wait_for 5 prompt_is 'lobby> half typed' 12 ||
    fail "the half-typed line was not kept intact (cursor $(cursor))"
pane | grep -v '^$' | tail -n 3 | head -n 2 | sed 's/^\[[0-9:]*\] //' |
    tr '\n' '|' | grep -qx 'bob: ping from bob|(private) bob: psst|' ||
    fail "deliveries not on their own rows above the prompt"
# typing goes on where the cursor was; Enter sends the whole line
tmux send-keys -t $T "well " End " and finished" Enter
wait_for 10 has "alice: half well typed and finished" || fail "typed line lost"
echo "ok   message arrived mid-typing; line and cursor intact"
# a typed line longer than the 120-column pane: the message goes above
# all of its rows, and none of them is left behind above it
long=$(printf 'w%.0s' $(seq 1 150))
tmux send-keys -t $T "$long"
wait_for 10 has "www" || fail "long line not shown"
printf 'login bob pw\nsay bob over a long line\n' | "$SB_BIN_DIR/sb" 127.0.0.1 $SBD_PORT >/dev/null
wait_for 10 has "bob: over a long line" || fail "message over a long line"
sleep 0.3
rows=$(pane | grep -v '^$')
[ "$(printf '%s\n' "$rows" | grep -c www)" = 2 ] &&
    printf '%s\n' "$rows" | tail -n 3 | head -n 1 | grep -q "bob: over a long line$" ||
    fail "long line not redrawn whole below the message"
tmux send-keys -t $T C-u
tmux send-keys -t $T "#cR den" Enter
wait_for 10 has "Created den" || fail "#cR"
tmux send-keys -t $T "#lR" Enter
wait_for 10 has "  den 1" || fail "#lR"
tmux send-keys -t $T "#show users" Enter
wait_for 10 has "  bob online" || fail "#show users"
tmux send-keys -t $T '#\privatebob hi bob' Enter
wait_for 10 has "(private to bob) hi bob" || fail "#\\private"
tmux send-keys -t $T "#eR" Enter
wait_for 10 has "You are in lobby" || fail "#eR"
tmux send-keys -t $T "#gR nowhere" Enter
wait_for 10 has "nowhere does not exist" || fail "#gR error"
tmux send-keys -t $T "#dR den" Enter
wait_for 10 has "Deleted den" || fail "#dR"
wait_for 5 prompt_is 'lobby> ' 7 || fail "prompt not back to lobby after #dR"
# rooms closing under alice: bob deletes his room, then bob's session
# ends with another; each time alice is told and her prompt says lobby
printf 'login bob pw\ncreate-room bob den2\n' | "$SB_BIN_DIR/sb" 127.0.0.1 $SBD_PORT >/dev/null
tmux send-keys -t $T "#gR den2" Enter
wait_for 10 prompt_is 'den2> ' 6 || fail "prompt does not show den2"
tmux send-keys -t $T "typing"
printf 'login bob pw\ndelete-room bob den2\n' | "$SB_BIN_DIR/sb" 127.0.0.1 $SBD_PORT >/dev/null
wait_for 10 has "* room den2 was deleted by bob; you are in lobby" ||
    fail "no notice of the deleted room"
pane | grep -qE '^\[[0-9]{2}:[0-9]{2}:[0-9]{2}\] \* room den2 was deleted' ||
    fail "notice not stamped"
wait_for 5 prompt_is 'lobby> typing' 13 || fail "prompt not lobby after the notice"
tmux send-keys -t $T C-u "room talk" Enter
wait_for 10 has "alice: room talk" || fail "say after the notice"
printf 'login bob pw\ncreate-room bob pub\n' | "$SB_BIN_DIR/sb" 127.0.0.1 $SBD_PORT >/dev/null
tmux send-keys -t $T "#gR pub" Enter
wait_for 10 prompt_is 'pub> ' 5 || fail "prompt does not show pub"
printf 'login bob pw\nlogout bob\n' | "$SB_BIN_DIR/sb" 127.0.0.1 $SBD_PORT >/dev/null
wait_for 10 has "* room pub closed: bob's session ended; you are in lobby" ||
    fail "no notice of the room closed by its creator's logout"
wait_for 5 prompt_is 'lobby> ' 7 || fail "prompt not lobby after logout notice"
echo "ok   room-closed notices (delete, creator's logout) and the prompt"
tmux send-keys -t $T "#exit" Enter
wait_for 10 has "Bye!" || fail "#exit"
out=$(printf 'login bob pw\nlist-users bob\n' | "$SB_BIN_DIR/sb" 127.0.0.1 $SBD_PORT)
echo "$out" | grep -qx "alice offline" || fail "#exit did not log out: $out"
echo "ok   tmux chat"

# Without a terminal: sb chat reads lines from a pipe kept open, prints
# plain lines; a room deleted under it is announced there too.
plain_chat_start 'l\nalice\nsecret\n'
wait_for 10 plain "You are in lobby" || fail "plain: no login: $(cat "$WRAP_BIN/out")"
printf 'login bob pw\ncreate-room bob den3\n' | "$SB_BIN_DIR/sb" 127.0.0.1 $SBD_PORT >/dev/null
echo "#gR den3" >&3
wait_for 10 plain "You are in den3" || fail "plain: #gR: $(cat "$WRAP_BIN/out")"
printf 'login bob pw\ndelete-room bob den3\n' | "$SB_BIN_DIR/sb" 127.0.0.1 $SBD_PORT >/dev/null
wait_for 10 plain "* room den3 was deleted by bob; you are in lobby" ||
    fail "plain: no room-closed notice: $(cat "$WRAP_BIN/out")"
echo "plain words" >&3
wait_for 10 plain "alice: plain words" || fail "plain: say: $(cat "$WRAP_BIN/out")"
echo "#exit" >&3
exec 3>&-
wait_for 10 plain "Bye!" || fail "plain: #exit: $(cat "$WRAP_BIN/out")"
wait "$CHAT_PID" || fail "plain: sb chat exit status $?"
grep -q $'\001' "$WRAP_BIN/out" && fail "plain: internal mark printed"
echo "ok   sb chat without a terminal, with the notice"
sbd_stop

# Clock: a server 5000 ms ahead, measured through the real network path.
SBD_EXTRA="--test-clock-skew-ms 5000"
chat_sbd_start || fail "sbd did not start (skew)"
out=$(printf 'register c pw\nlogin c pw\ntime c\nwhoami c\n' | "$SB_BIN_DIR/sb" 127.0.0.1 $SBD_PORT)
echo "$out"
off=$(echo "$out" | sed -n 's/^Server time .*, offset \([-+][0-9]*\) ms, round trip \([0-9]*\) ms$/\1/p')
[ -n "$off" ] || fail "time output shape: $out"
d=$(( off - 5000 )); d=${d#-}
[ "$d" -le 5 ] || fail "offset $off ms, want 5000 +- 5"
echo "$out" | grep -qE '^c on app-[0-9]+ tcp://127\.0\.0\.1:[0-9]+, logged in since [0-9-]{10}T[0-9:.]{12}Z$' ||
    fail "whoami shape"
echo "ok   clock skew measured as $off ms"
sbd_stop

# Idle sessions: alice idles past 1500 ms; her room and session go, and
# bob, in her room, gets the room-closed notice.
SBD_EXTRA="--session-idle-ms 1500"
chat_sbd_start || fail "sbd did not start (idle)"
# (alice in her own sb: script mode polls every user it holds)
printf 'register alice pa\nregister bob pb\nlogin alice pa\ncreate-room alice gone\n' |
    "$SB_BIN_DIR/sb" 127.0.0.1 $SBD_PORT >/dev/null
out=$( { printf 'login bob pb\njoin-room bob gone\nlist-rooms bob\n'
         for i in 1 2 3 4 5; do sleep 0.6; echo "list-rooms bob"; done
         echo "list-users bob"; echo "list-rooms bob"; } |
       "$SB_BIN_DIR/sb" 127.0.0.1 $SBD_PORT)
echo "$out" | head -n 8 | grep -qx "gone 2" || fail "room not made: $out"
# bob, in alice's room, is told it closed with her session
echo "$out" | grep -qx "<<<ROOM<gone> closed: alice's session ended; you are in lobby>>>" ||
    fail "no room-closed notice on the idle timeout: $out"
echo "$out" | tail -n 4 | grep -qx "alice offline" || fail "alice did not time out: $out"
echo "$out" | tail -n 2 | grep -q "gone" && fail "room outlived the session: $out"
echo "$out" | tail -n 1 | grep -qx "lobby 1" || fail "lobby count: $out"
echo "ok   idle session and its room timed out"
