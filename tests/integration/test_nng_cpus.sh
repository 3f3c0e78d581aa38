#!/bin/bash
# test_nng_cpus.sh: sbd sizes nng's task pool (rpc_nng_cpus): an app
# server for 1 CPU (2 task threads), the other roles for the machine's
# count (2 per CPU); --nng-cpus N sets it, SB_NNG_CPUS overrides the flag,
# and a bad value is refused with a message.
set -u
S="${SB_BIN_DIR:?}/sbd"
T=$(mktemp -d /tmp/test_nng_cpus.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 $p 2>/dev/null; done; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; tail -20 "$T"/log* 2>/dev/null; exit 1; }
ncpu=$(getconf _NPROCESSORS_ONLN)

# start NAME READY ENV ARGS...: runs `env ENV sbd ARGS` (log in $T/log.NAME)
# until its log says READY; sets $pid.
start() {
    local name=$1 ready=$2 envs=$3; shift 3
    env $envs "$S" "$@" >"$T/log.$name" 2>&1 &
    pid=$!
    pids+=($pid)
    for i in $(seq 1 200); do
        grep -q "$ready" "$T/log.$name" && return 0
        kill -0 $pid 2>/dev/null || break
        sleep 0.05
    done
    fail "$name did not start"
}

# check NAME PID WANT: PID runs WANT nng:task threads and its log says so.
# nng 1.5.2 creates its task threads at init, but each one names itself
# ("nng:task", first line of nni_taskq_thread) only once it first runs: on
# a loaded machine one may not have run yet when sbd says it is serving,
# so the count may still be rising. Wait for it (3 s at most), then check
# that it stays there (a pool too big would go on past WANT).
check() {
    local n=0
    for i in $(seq 1 60); do
        n=$(cat /proc/$2/task/*/comm 2>/dev/null | grep -c '^nng:task$')
        [ "$n" -ge "$3" ] && break
        sleep 0.05
    done
    sleep 0.2
    n=$(cat /proc/$2/task/*/comm 2>/dev/null | grep -c '^nng:task$')
    [ "$n" = "$3" ] || fail "$1: want $3 nng:task threads, got $n"
    grep -q "nng sized for $(( $3 / 2 )) CPU(s), $3 task threads" "$T/log.$1" ||
        fail "$1: the log does not say how nng is sized"
}

port=
for try in 1 2 3 4 5; do
    port=$(( 20000 + RANDOM % 12000 ))
    start store "serving sb.store.Store\|in use" "SB_T=1" store \
        --data-dir "$T/store" --listen "tcp://127.0.0.1:$port"
    grep -q "serving sb.store.Store" "$T/log.store" && break
    kill -9 $pid; port=
done
[ -n "$port" ] || fail "no free port for sbd store"
check store $pid $(( 2 * ncpu ))
start app "serving on" "SB_T=1" app --store "tcp://127.0.0.1:$port" \
    --listen tcp://127.0.0.1:0
check app $pid 2
start app3 "serving on" "SB_T=1" app --nng-cpus 3 \
    --store "tcp://127.0.0.1:$port" --listen tcp://127.0.0.1:0
check app3 $pid 6
start app4 "serving on" "SB_NNG_CPUS=4" app --nng-cpus 3 \
    --store "tcp://127.0.0.1:$port" --listen tcp://127.0.0.1:0
check app4 $pid 8
"$S" store --nng-cpus lots --data-dir "$T/x" >"$T/log.bad" 2>&1
[ $? = 2 ] || fail "--nng-cpus lots should exit 2"
grep -q "bad value for --nng-cpus: 'lots'" "$T/log.bad" || fail "--nng-cpus lots: no clear message"
for p in "${pids[@]}"; do kill -TERM $p 2>/dev/null; done
wait
pids=()
echo "ok: store $(( 2 * ncpu )) task threads, app 2, --nng-cpus 3 -> 6, SB_NNG_CPUS=4 -> 8"
