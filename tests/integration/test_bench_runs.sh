#!/bin/bash
# test_bench_runs.sh: sb-bench's load generators end to end on 127.0.0.1,
# short runs: the draw bench over the wire client and over nng clients,
# against the epoll and the nng server engine, receives exactly the numbers it asked for, all distinct; an exhausted
# pool ends the run with exit 1 and the server's message after exactly the
# pool's numbers; sb-bench social over the wire client completes posts and
# sends with 0 errors through a child sbd and its app processes; --json
# prints one object a line with its documented keys, progress goes to
# stderr.
set -u
B="${SB_BIN_DIR:?}/sb-bench"
T=$(mktemp -d /tmp/test_bench_runs.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$T/out"; echo "--- stderr"; grep -v "calls/s$" "$T/err" | tail -20; exit 1; }

# both load generators against both server engines
for shape in "wire epoll" "nng epoll" "wire nng" "nng nng"; do
    set -- $shape
    client=$1 engine=$2
    timeout 120 "$B" draw --clients 8 --requests 2000 --pool-size 100000 \
        --client "$client" --draw-engine "$engine" >"$T/out" 2>"$T/err" ||
        fail "draw --client $client --draw-engine $engine exited $?"
    grep -q "($client client)" "$T/out" || fail "draw did not say it used the $client client"
    grep -q "($engine engine)" "$T/out" || fail "draw did not say it used the $engine engine"
    grep -q "2000 numbers received, all distinct, all in 1..100000" "$T/err" ||
        fail "draw --client $client --draw-engine $engine: not 2000 distinct numbers"
    grep -q "(2000 draws, 0 errors" "$T/out" ||
        fail "draw --client $client --draw-engine $engine: not 2000 draws without errors"
done

timeout 120 "$B" draw --clients 8 --requests 1000 --pool-size 500 >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] || fail "an exhausted pool should exit 1, got $rc"
grep -Eq "\(500 draws, [1-8] errors" "$T/out" || fail "exhaustion: not exactly the pool's 500 draws, then errors"
grep -q "RESOURCE_EXHAUSTED: No numbers left" "$T/err" || fail "exhaustion: the server's message is missing"
grep -q "DUPLICATE" "$T/err" && fail "exhaustion: a duplicate was reported"

# --vs-redis: the draw rounds alternate with both Redis servers' rounds
if command -v redis-server >/dev/null; then
    timeout 120 "$B" draw --clients 4 --seconds 1 --rounds 2 --vs-redis \
        >"$T/out" 2>"$T/err" || fail "draw --vs-redis exited $?"
    grep -q "alternating with Redis" "$T/out" || fail "vs-redis: not alternating"
    grep -Eq "^draw: 4 clients, count 1: .*, 0 errors, [0-9.]+ s\)" "$T/out" ||
        fail "vs-redis: the draw side had errors"
    for side in redis-nopersist redis-aof-always; do
        grep -Eq "^$side +[0-9]+ calls/s .*, 0 errors, [0-9.]+ s\)" "$T/out" ||
            fail "vs-redis: no clean $side line"
        grep -Eq "^ratio +draw/$side calls/s = [0-9.]+" "$T/out" ||
            fail "vs-redis: no ratio against $side"
    done
    grep -q "numbers received, all distinct" "$T/err" || fail "vs-redis: numbers not checked"
    # the servers this bench started (their pids on stderr) are gone;
    # other tests and engineers may run redis-servers of their own meanwhile
    rpids=$(sed -nE 's/^sb-bench [a-z]+: redis-server pid ([0-9]+) on .*/\1/p' "$T/err")
    [ -n "$rpids" ] || fail "vs-redis: no redis-server pid reported"
    for p in $rpids; do
        kill -0 "$p" 2>/dev/null && fail "vs-redis left redis-server $p running"
    done
else
    echo "note: redis-server missing, --vs-redis not run (scripts/setup.sh installs it)"
fi

"$B" draw --client carrier-pigeon >"$T/out" 2>"$T/err"
[ $? = 2 ] || fail "an unknown --client should exit 2"
grep -q "wire or nng" "$T/err" || fail "an unknown --client should say which are known"
"$B" draw --draw-engine steam >"$T/out" 2>"$T/err"
[ $? = 2 ] || fail "an unknown --draw-engine should exit 2"
grep -q "epoll or nng" "$T/err" || fail "an unknown --draw-engine should say which are known"
"$B" draw --engine nng >"$T/out" 2>"$T/err"
[ $? = 2 ] || fail "the old name --engine should be gone (one name: sbd's --draw-engine)"

# --json: one object a line on stdout, each with "bench" and "name" (and
# the figures docs/benchmarks.md lists); progress on stderr, not stdout
timeout 120 "$B" rpc --clients 2 --seconds 1 --rounds 2 --json >"$T/out" 2>"$T/err" ||
    fail "rpc --json exited $?"
timeout 120 "$B" draw --clients 2 --requests 500 --pool-size 100000 --json >>"$T/out" 2>>"$T/err" ||
    fail "draw --json exited $?"
python3 - "$T/out" <<'EOP' || fail "--json output is not one object a line with its schema"
import json, sys
need = {"framework": {"seconds", "calls", "errors", "calls_per_s", "p50_us", "p90_us", "p99_us", "max_us"},
        "framework-cpu": {"cpu_us_per_call"}, "raw-nng-cpu": {"cpu_us_per_call"},
        "ratio": {"framework_over_raw"},
        "draw": {"clients", "count", "draws", "draws_per_s", "numbers_per_s", "p99_us"}}
seen = set()
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert isinstance(o, dict) and o["bench"] in ("rpc", "draw") and o["name"], line
    missing = need.get(o["name"], set()) - set(o)
    assert not missing, (o["name"], missing)
    seen.add(o["name"])
assert {"framework", "raw-nng", "ratio", "draw"} <= seen, seen
EOP
grep -q "^sb-bench rpc: round 2/2: framework [0-9]* calls/s, raw nng [0-9]* calls/s$" "$T/err" ||
    fail "rpc: no progress line per round on stderr"
grep -q "INFO" "$T/err" && fail "info logs in the bench's output (SB_LOG unset)"

timeout 150 "$B" social --clients 4 --seconds 1 >"$T/out" 2>"$T/err" || fail "social exited $?"
grep -q "wire client, one thread" "$T/out" || fail "social did not use the wire client"
grep -Eq "^durable posts +[0-9]+ calls/s .*, 0 errors" "$T/out" || fail "social posts had errors"
grep -Eq "^durable sends +[0-9]+ calls/s .*, 0 errors" "$T/out" || fail "social sends had errors"
n=$(grep -E "^durable posts " "$T/out" | sed -E 's/.*\(([0-9]+) calls.*/\1/')
[ "${n:-0}" -gt 0 ] || fail "social made no posts"
echo "ok: draw wire+nng x epoll+nng, exhaustion, vs-redis, bad option, --json, progress, social ($n posts)"
