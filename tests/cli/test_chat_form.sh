#!/usr/bin/env bash
# test_chat_form.sh: `sb chat` as a newcomer uses it (tmux, 127.0.0.1).
# Registering, each field is checked as it is typed and only that field
# is asked again (a bad age asks for the age, not the form); the login is
# checked for being taken before the password; the password is typed
# twice. The checks write nothing (a form left half way leaves no
# account). In chat: your own line shows once; #show users is sorted;
# friends, invitations, posts, groups (send to a group), profile, draw
# and whoami work as #commands and #help lists them. The same form
# without a terminal.
set -u
: "${SB_BIN_DIR:?}" "${SB_SOURCE_DIR:?}"
. "$SB_SOURCE_DIR/tests/integration/chat_lib.sh"
command -v tmux >/dev/null || { echo "SKIP: tmux not installed"; exit 77; }
T=sbform$$
CHAT_PID=
trap '[ -n "$CHAT_PID" ] && kill $CHAT_PID 2>/dev/null; tmux kill-session -t $T 2>/dev/null; sbd_stop; rm -rf "$WRAP_BIN"' EXIT
fail() { echo "FAIL: $*"; pane 2>/dev/null; exit 1; }
sb_run() { printf "$1" | "$SB_BIN_DIR/sb" 127.0.0.1 $SBD_PORT; }
keys() { for k in "$@"; do tmux send-keys -t $T "$k" Enter; sleep 0.15; done; }
chat() {
    tmux kill-session -t $T 2>/dev/null
    tmux new-session -d -s $T -x 120 -y 60 \
        "TZ=UTC $SB_BIN_DIR/sb chat 127.0.0.1 $SBD_PORT; echo EXIT=\$?; sleep 30" || fail tmux
    wait_for 10 has "(l)ogin or (r)egister?" || fail "no form"
}

chat_sbd_start || fail "sbd did not start"
sb_run 'register zed pw\nregister bob pw\nregister mia pw\n' >/dev/null
chat
keys r Ann "" Lee bob ann pw1 pw2 pw1 pw1 abc 151 33 "" f
wait_for 10 has "You are in lobby" || fail "not in lobby"
pane | sed -n '1,/^Welcome/p' >"$WRAP_BIN/form"
cat >"$WRAP_BIN/want" <<'EOW'
(l)ogin or (r)egister? r
First name: Ann
Last name:
Names and gender must be 1 to 64 bytes of printable UTF-8
Last name: Lee
Login: bob
bob is already used
Login: ann
Password:
Password again:
The passwords differ; type it again
Password:
Password again:
Age: abc
Age must be 0 to 150
Age: 151
Age must be 0 to 150
Age: 33
Gender:
Names and gender must be 1 to 64 bytes of printable UTF-8
Gender: f
EOW
head -n 21 "$WRAP_BIN/form" | diff -u "$WRAP_BIN/want" - || fail "the form did not ask each bad field again, alone"
grep -q "pw1\|pw2" "$WRAP_BIN/form" && fail "a password was echoed"
out=$(sb_run 'login ann pw1\nshow-profile ann ann\n')
echo "$out" | tail -n 1 | grep -qx "ann: Ann Lee, 33, f" || fail "the profile registered: $out"
echo "ok   each field checked as typed and asked again alone; password twice"

# own line once, stamped by the server
tmux send-keys -t $T "hello room" Enter
wait_for 10 has "ann: hello room" || fail "own line not shown"
sleep 0.5
[ "$(pane | grep -c 'hello room')" = 1 ] || fail "own line shown $(pane | grep -c 'hello room') times"
pane | grep -qE '^\[[0-9:]{8}\] ann: hello room$' || fail "own line not as [HH:MM:SS] ann: text"
# sorted #show users
tmux send-keys -t $T "#show users" Enter
wait_for 10 has "  zed " || fail "#show users"
[ "$(pane | grep -E '^  (ann|bob|mia|zed) ' | awk '{print $1}' | tr '\n' ' ')" = "ann bob mia zed " ] ||
    fail "#show users is not sorted"
echo "ok   own line once; #show users sorted"

# friends and invitations, posts, groups, profile, draw, whoami
keys "#invite bob"
wait_for 10 has "* Success!" || fail "#invite"
sb_run 'login bob pw\naccept-invite bob ann\npost bob from bob\ncreate-group bob band\n' >/dev/null
keys "#list-friend" "#receive-post"
wait_for 10 has "* bob: from bob" || fail "#receive-post"
pane | grep -qE '^\[[0-9:]{8}\] \* bob$' || fail "#list-friend"
keys "#post hi friends" "#list-group" "#join-group band"
wait_for 10 has "* band" || fail "#list-group"
[ "$(sb_run 'login bob pw\nreceive-post bob\n' | tail -n 1)" = "ann: hi friends" ] || fail "#post"
tmux send-keys -t $T "#send-group band hey band" Enter
wait_for 10 has "<band> ann: hey band" || fail "#send-group: own group line"
tmux send-keys -t $T "#send bob direct words" Enter
wait_for 10 has "* (to bob) direct words" || fail "#send"
sleep 0.5
pane | grep -q "#send-group band\|#send bob" && fail "a sent line stayed on screen twice"
out=$(sb_run 'login bob pw\n')
echo "$out" | grep -qx "<<<ann->GROUP<band>: hey band>>>" || fail "bob did not get the group message: $out"
echo "$out" | grep -qx "<<<ann->bob: direct words>>>" || fail "bob did not get the direct message: $out"
keys "#set-profile Ann Lee 34 f" "#show-profile ann" "#draw 2" "#whoami" "#invite" "#frob x"
wait_for 10 has "* Unknown command #frob (#help lists them)" || fail "#frob"
has "* ann: Ann Lee, 34, f" || fail "#show-profile"
has "* Usage: #invite <id>" || fail "#invite's usage"
pane | grep -qE '^\[[0-9:]{8}\] \* ann on app-[0-9]+ tcp://' || fail "#whoami"
[ "$(pane | grep -cE '^\[[0-9:]{8}\] \* [0-9]+$')" = 2 ] || fail "#draw 2"
tmux send-keys -t $T C-l "#help" Enter
wait_for 10 has "#send-group <group> <message>" || fail "#help"
for c in "#invite <id>" "#accept-invite <id>" "#list-invite" "#list-friend" \
         "#post <message>" "#receive-post" "#create-group <group>" "#join-group <group>" \
         "#show-profile <id>" "#draw <count>" "#whoami" "#cR <room>" "#show users" "#exit"; do
    has "  $c" || fail "#help does not list $c"
done
keys "#exit"
wait_for 10 has "EXIT=0" || fail "#exit"
echo "ok   friends, invitations, posts, groups, profile, draw, whoami, #help"

# A form left half way leaves nothing behind: the checks wrote nothing.
chat
keys r Gus Ghost ghost
wait_for 10 has "Password:" || fail "ghost's password not asked"
tmux send-keys -t $T C-d
wait_for 10 has "EXIT=" || fail "^D in the form did not end sb chat"
[ "$(sb_run 'register ghost pw\n')" = "Success!" ] || fail "checking a login created the account"
echo "ok   the checks write nothing"

# Without a terminal: the same form, the bad age asked again alone.
plain_chat_start 'r\nPia\nPark\npia\npw\npw\n200\n41\nf\n'
wait_for 10 plain "You are in lobby" || fail "plain: no login: $(cat "$WRAP_BIN/out")"
[ "$(grep -c '^Age: ' "$WRAP_BIN/out")" = 2 ] && plain "Age must be 0 to 150" &&
    [ "$(grep -c 'First name: ' "$WRAP_BIN/out")" = 1 ] ||
    fail "plain: the age was not asked again alone: $(cat "$WRAP_BIN/out")"
echo "#exit" >&3
exec 3>&-
wait "$CHAT_PID" || fail "plain: sb chat exit status $?"
CHAT_PID=
echo "ok   the form without a terminal"
