#!/usr/bin/env bash
# test_web_alone.sh: `sbd web --login URL` as its own process beside an
# `sbd all` started with --web-port 0 (no web client of its own): the
# status page is on P+6, nothing on P+7; the lone web role serves the
# page and the API for the other sbd's users; both stop cleanly (exit 0,
# which under ASan includes no leak).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/sbd_web_lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/sb-web-alone.XXXXXX")
WEB_ALONE_PID=
cleanup() {
    [ -n "$WEB_ALONE_PID" ] && kill -KILL "$WEB_ALONE_PID" 2>/dev/null
    sbd_web_stop >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; tail -20 "$work/sbd.log" "$work/web.log" 2>/dev/null; exit 1; }

SBD_PORT=$(sbd_web_free_base)
"$SB_BIN_DIR/sbd" --data-dir "$work/data" --base-port "$SBD_PORT" --host 127.0.0.1 \
    --pw-cost fast --web-port 0 >"$work/sbd.out" 2>"$work/sbd.log" &
SBD_PID=$!
for _ in $(seq 300); do
    curl -s -o /dev/null "http://127.0.0.1:$((SBD_PORT + 6))/healthz" && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$((SBD_PORT + 6))/healthz" >/dev/null || fail "no status page on P+6"
grep -q "^Web client:" "$work/sbd.out" && fail "--web-port 0 still printed a web client"
curl -s -o /dev/null "http://127.0.0.1:$((SBD_PORT + 7))/" && fail "something serves P+7 with --web-port 0"
grep -q "web client off" "$work/sbd.log" || fail "no log line for the web client being off"

WPORT=$((SBD_PORT + 7))
"$SB_BIN_DIR/sbd" web --login "tcp://127.0.0.1:$SBD_PORT" --web-port "$WPORT" \
    --host 127.0.0.1 >"$work/web.out" 2>"$work/web.log" &
WEB_ALONE_PID=$!
for _ in $(seq 100); do grep -q "^Web client: " "$work/web.out" && break; sleep 0.1; done
[ "$(cat "$work/web.out")" = "Web client: http://127.0.0.1:$WPORT/" ] || fail "sbd web printed: $(cat "$work/web.out")"
B="http://127.0.0.1:$WPORT"
# A second web role on the taken port must refuse to start, not share it
# (SO_REUSEPORT would let it, and take half the connections).
timeout 10 "$SB_BIN_DIR/sbd" web --login "tcp://127.0.0.1:$SBD_PORT" --web-port "$WPORT" \
    --host 127.0.0.1 >"$work/web2.out" 2>"$work/web2.log"
[ $? = 1 ] || fail "a second sbd web on port $WPORT did not exit 1: $(cat "$work/web2.log")"
grep -q "cannot listen on 127.0.0.1:$WPORT" "$work/web2.log" || fail "second web role: $(cat "$work/web2.log")"
curl -sf "$B/" | grep -q "<title>Switchboard</title>" || fail "no page"
csrf=$(curl -s -c "$work/jar" "$B/api/session" | python3 -c 'import sys,json; print(json.load(sys.stdin)["csrf"])')
post() { curl -s -b "$work/jar" -c "$work/jar" -H "Content-Type: application/json" \
    -H "X-CSRF-Token: $csrf" "$B/api/$1" -d "$2"; }
r=$(post register '{"name":"solo","password":"pw","first":"S","last":"O","age":1,"gender":"x"}')
[ "$r" = '{"ok":true,"code":"OK","lines":["Success!"]}' ] || fail "register: $r"
r=$(post login '{"name":"solo","password":"pw"}')
csrf=$(echo "$r" | python3 -c 'import sys,json; print(json.load(sys.stdin)["csrf"])')
r=$(post cmd '{"cmd":"list-users","args":[]}')
echo "$r" | grep -q '"lines":\["solo online"\]' || fail "list-users: $r"
# the same user through script mode on the other sbd
printf 'login solo pw\nlist-friend solo\n' | "$SB_BIN_DIR/sb" 127.0.0.1 "$SBD_PORT" >"$work/sb.out"
[ "$(cat "$work/sb.out")" = "$(printf 'Success!\nNo friends')" ] || fail "sb: $(cat "$work/sb.out")"
kill -TERM "$WEB_ALONE_PID"
wait "$WEB_ALONE_PID" || fail "sbd web did not exit 0"
WEB_ALONE_PID=
sbd_web_stop || fail "sbd did not exit 0"
echo "1 passed, 0 failed"
