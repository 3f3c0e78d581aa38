#!/usr/bin/env bash
# test_chat_netns.sh: the "at least three machines" of the chat-room
# assignment: an sbd in one network namespace, three script-mode clients
# in three others, joined by veth pairs this test makes (10.213.N.0/24).
# They meet in one room and each sees the other two. Needs root (ip netns);
# skipped with a message otherwise. Everything is removed on exit.
set -u
: "${SB_BIN_DIR:?}" "${SB_SOURCE_DIR:?}"
. "$SB_SOURCE_DIR/tests/golden/golden_lib.sh"
need_binaries
tag=sb$$
srv=${tag}s
work=$(mktemp -d "${TMPDIR:-/tmp}/sb-netns.XXXXXX")
SRV_PID=
cleanup() {
    [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
    for n in 1 2 3; do ip netns del ${tag}c$n 2>/dev/null; done
    ip netns del $srv 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
if ! ip netns add $srv 2>/dev/null; then
    echo "SKIP: cannot create network namespaces here (needs root / CAP_SYS_ADMIN)"
    exit 77
fi
ip -n $srv link set lo up
for n in 1 2 3; do
    c=${tag}c$n
    ip netns add $c || { echo "FAIL: netns $c"; exit 1; }
    ip -n $c link set lo up
    ip link add ${tag}v$n netns $srv type veth peer name ${tag}p$n netns $c || {
        echo "SKIP: cannot create veth pairs here"; exit 77; }
    ip -n $srv addr add 10.213.$n.1/24 dev ${tag}v$n
    ip -n $srv link set ${tag}v$n up
    ip -n $c addr add 10.213.$n.2/24 dev ${tag}p$n
    ip -n $c link set ${tag}p$n up
    ip -n $c route add default via 10.213.$n.1
done
# login and app servers on 10.213.1.1: every client reaches it via its
# own link (the server namespace owns the address; no forwarding needed)
ip netns exec $srv "$SB_BIN_DIR/sbd" --data-dir "$work/data" --host 10.213.1.1 \
    --base-port 9100 --pw-cost fast 2>"$work/sbd.log" &
SRV_PID=$!
ok=0
for i in $(seq 1 100); do
    ip netns exec ${tag}c3 bash -c 'exec 3<>/dev/tcp/10.213.1.1/9100' 2>/dev/null && { ok=1; break; }
    sleep 0.1
done
[ $ok = 1 ] || { echo "FAIL: sbd not reachable from c3"; tail "$work/sbd.log"; exit 1; }

client() { # n first-command
    local n=$1 first=$2
    { printf 'register c%s p\nlogin c%s p\n%s\n' $n $n "$first"
      sleep 3; echo "say c$n hello from c$n"; sleep 3; echo "list-rooms c$n"; } |
        timeout 30 ip netns exec ${tag}c$n "$SB_BIN_DIR/sb" 10.213.1.1 9100 >"$work/c$n.out"
}
client 1 "create-room c1 net" & p1=$!
sleep 1
client 2 "join-room c2 net" & p2=$!
client 3 "join-room c3 net" & p3=$!
wait $p1 $p2 $p3 # each bounded by its timeout
rc=0
for n in 1 2 3; do
    for m in 1 2 3; do
        grep -qxF "<<<c$m->ROOM<net>: hello from c$m>>>" "$work/c$n.out" || {
            echo "FAIL: c$n did not see c$m"; cat "$work/c$n.out"; rc=1; }
    done
    grep -qx "net 3" "$work/c$n.out" || { echo "FAIL: c$n: net 3"; rc=1; }
done
[ $rc = 0 ] && echo "ok   three namespaces talked through a fourth"
exit $rc
