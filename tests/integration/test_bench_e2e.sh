#!/bin/bash
# test_bench_e2e.sh: sb-bench's end-to-end instruments on 127.0.0.1, short
# runs, counts only (never speeds). `sb-bench social --phases e2e` through a
# child sbd and its app processes: every message answered OK is received
# exactly once and acknowledged, nothing is left in a mailbox, exit 0; the
# check itself fails (exit 1, naming what) when receiver 0 is made to see a
# message twice (SB_BENCH_FAULT=duplicate: its first ack acknowledges
# nothing and it reads again from seq 0) or to lose one (=lose); the same
# check on Redis Streams (--vs-redis); room says (sb-bench chat): every say
# reaches every member once; the soak mode prints its interval lines and
# verdicts; the mailbox mode pre-fills the store and reads exactly a page.
set -u
B="${SB_BIN_DIR:?}/sb-bench"
T=$(mktemp -d /tmp/test_bench_e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$T/out"; echo "--- stderr"; tail -20 "$T/err"; exit 1; }

# the exactly-once line: "exactly once: S sent (answered OK), [D deliveries
# due, ]R received, A acknowledged; ...: OK"; prints S R A (and D or S)
counts() {
    sed -nE "s/^  exactly once: ([0-9]+) sent \(answered OK\), (([0-9]+) deliveries due, )?([0-9]+) received, ([0-9]+) acknowledged;.*/\1 \4 \5 \3/p" "$T/out" | sed -n "${1:-1}p"
}

# 1. Switchboard end to end: every message once, acknowledged, none left
timeout 120 "$B" social --clients 4 --seconds 1 --phases e2e >"$T/out" 2>"$T/err" ||
    fail "social --phases e2e exited $?"
grep -Eq "^end to end +[0-9]+ calls/s .*, 0 errors" "$T/out" || fail "e2e: no clean result line"
grep -Eq "^  exactly once: .* 0 duplicates, 0 missing, 0 misrouted, 0 left in mailboxes: OK" "$T/out" ||
    fail "e2e: the exactly-once check did not pass"
read -r sent recv acked _ <<<"$(counts)"
[ "${sent:-0}" -gt 0 ] || fail "e2e: nothing was sent"
[ "$recv" = "$sent" ] && [ "$acked" = "$sent" ] || fail "e2e: sent $sent, received $recv, acknowledged $acked"
e2e_sent=$sent
grep -Eq "^  cpu per message: server [0-9.]+ us \(sbd [0-9.]+, [0-9]+ apps" "$T/out" || fail "e2e: no cpu per process"
grep -q "durable posts\|durable sends" "$T/out" && fail "--phases e2e ran other phases"

# 2. the check catches a duplicate and a lost message (exit 1, says which)
SB_BENCH_FAULT=duplicate timeout 120 "$B" social --clients 2 --seconds 1 --phases e2e \
    >"$T/out" 2>"$T/err"
[ $? = 1 ] || fail "a duplicated delivery should exit 1"
grep -Eq "exactly once: .* [1-9][0-9]* duplicates, 0 missing, .*: FAILED" "$T/out" ||
    fail "a duplicated delivery was not reported as one"
SB_BENCH_FAULT=lose timeout 120 "$B" social --clients 2 --seconds 1 --phases e2e --drain 2 \
    >"$T/out" 2>"$T/err"
[ $? = 1 ] || fail "a lost delivery should exit 1"
grep -Eq "exactly once: .* 0 duplicates, 1 missing, .*: FAILED" "$T/out" ||
    fail "a lost delivery was not reported as missing"

# 3. the same shapes on Redis Streams, alternating, with the same check
if command -v redis-server >/dev/null; then
    timeout 150 "$B" social --clients 4 --seconds 1 --rounds 2 --vs-redis --json \
        >"$T/out" 2>"$T/err" || fail "social --vs-redis exited $?"
    python3 - "$T/out" <<'EOP' || fail "--vs-redis: JSON or counts wrong"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
by = {o["name"]: o for o in objs}
for side in ("end to end", "redis end to end (XADD+XREADGROUP+XACK)"):
    c = by[side + " check"]
    assert c["ok"] is True and c["sent"] > 0, c
    assert c["received"] == c["sent"] == c["acked"] and c["left"] == 0, c
    assert by[side]["errors"] == 0, by[side]
    assert by[side + " cpu"]["server_us"] > 0, by[side + " cpu"]
for ph in ("durable posts", "durable sends", "redis posts (XADD)", "redis sends (XADD)"):
    assert by[ph]["calls"] > 0 and by[ph]["errors"] == 0, by[ph]
    assert set(by[ph + " cpu"]) >= {"server_us", "sbd_us", "apps_us", "redis_us", "bench_us"}
ratios = {o["phase"] for o in objs if o["name"] == "vs redis"}
assert ratios == {"posts", "sends", "e2e"}, ratios
assert by["redis end to end (XADD+XREADGROUP+XACK) cpu"]["redis_us"] > 0
EOP
    grep -q "round 2: redis end to end" "$T/err" || fail "--vs-redis: not 2 alternating rounds"
    # the servers this bench started (their pids on stderr) are gone;
    # other tests and engineers may run redis-servers of their own meanwhile
    rpids=$(sed -nE 's/^sb-bench [a-z]+: redis-server pid ([0-9]+) on .*/\1/p' "$T/err")
    [ -n "$rpids" ] || fail "--vs-redis: no redis-server pid reported"
    for p in $rpids; do
        kill -0 "$p" 2>/dev/null && fail "--vs-redis left redis-server $p running"
    done
else
    echo "note: redis-server missing, --vs-redis not run (scripts/setup.sh installs it)"
fi

# 4. room says: every say reaches each member of its room once
timeout 120 "$B" chat --users 6 --rooms 2 --seconds 1 >"$T/out" 2>"$T/err" ||
    fail "chat exited $?"
read -r sent recv acked due <<<"$(counts)"
[ "${sent:-0}" -gt 0 ] || fail "chat: nothing was said"
[ "$due" = "$((sent * 3))" ] || fail "chat: $sent says in rooms of 3 should make $((sent * 3)) deliveries, not $due"
[ "$recv" = "$due" ] && [ "$acked" = "$due" ] || fail "chat: due $due, received $recv, acknowledged $acked"
grep -q ": OK" "$T/out" || fail "chat: the check did not pass"

# 5. soak: a line per interval with each process's RSS and the LMDB size
timeout 120 "$B" social --clients 2 --soak-seconds 3 --interval 1 --rate 100 \
    >"$T/out" 2>"$T/err" || fail "soak exited $?"
[ "$(grep -Ec '^soak +[0-9]+ s: .* lmdb MiB: store [0-9.]+' "$T/out")" -ge 2 ] ||
    fail "soak: fewer than 2 interval lines"
grep -Eq "^  rss \(anon\) MiB: sb-bench [0-9.]+ \([0-9.]+\) sbd [0-9.]+ \([0-9.]+\) app [0-9.]+ \([0-9.]+\)" "$T/out" ||
    fail "soak: no rss per process"
grep -Eq "^soak verdict: rss (flat|NOT flat) \(anon (flat|NOT flat)\), lmdb store (flat|NOT flat), p99 (stable|NOT stable)" "$T/out" ||
    fail "soak: no verdict"
grep -Eq "^  exactly once: .*: OK" "$T/out" || fail "soak: the exactly-once check did not pass"

# 6. big mailboxes: pre-filled through the store, every Receive one page
timeout 150 "$B" social --mailboxes 30 --unread 40 --page 10 --clients 4 --seconds 1 --rounds 1 \
    >"$T/out" 2>"$T/err" || fail "mailboxes exited $?"
grep -q "^mailboxes: 30 users x 40 unread (+4 x 10)" "$T/out" || fail "mailboxes: not the shape asked"
[ "$(grep -Ec '^receive .* \([1-9][0-9]* calls, 0 errors' "$T/out")" = 3 ] ||
    fail "mailboxes: not 3 clean Receive phases"
grep -Eq "^ratio +head of 40 unread / one-page mailbox: p50 [0-9.]+, server cpu per Receive [0-9.]+" "$T/out" ||
    fail "mailboxes: no ratio"
echo "ok: e2e once each ($e2e_sent), duplicate and loss caught, vs-redis, chat, soak, mailboxes"
