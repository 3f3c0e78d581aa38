#!/bin/bash
# test_nng_cpus.sh: sbd sizes nng's task pool (rpc_nng_cpus): 2 task
# threads by default (1 CPU), 2 per CPU with --nng-cpus N, SB_NNG_CPUS
# overrides the flag, and a bad value is refused with a message.
set -u
S="${SB_BIN_DIR:?}/sbd"
T=$(mktemp -d /tmp/test_nng_cpus.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; tail -20 "$T/log" 2>/dev/null; exit 1; }

# tasks WANT ENV EXTRA: starts `env ENV sbd store EXTRA` on a free port,
# counts its nng:task threads once it serves, stops it.
tasks() {
    local want=$1 envs=$2 extra=$3 port n
    for try in 1 2 3 4 5; do
        port=$(( 20000 + RANDOM % 12000 ))
        env $envs "$S" store --data-dir "$T/d$port" $extra \
            --listen "tcp://127.0.0.1:$port" >"$T/log" 2>&1 &
        pid=$!
        for i in $(seq 1 200); do
            grep -q "serving sb.store.Store" "$T/log" && break
            kill -0 $pid 2>/dev/null || break
            sleep 0.05
        done
        grep -q "serving sb.store.Store" "$T/log" && break
        kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; pid=
        grep -qi "in use" "$T/log" || fail "sbd store did not start ($envs $extra)"
    done
    [ -n "$pid" ] || fail "no free port for sbd store"
    n=$(cat /proc/$pid/task/*/comm 2>/dev/null | grep -c '^nng:task$')
    kill -TERM $pid; wait $pid 2>/dev/null; pid=
    [ "$n" = "$want" ] || fail "want $want nng:task threads ($envs $extra), got $n"
    grep -q "nng sized for $(( want / 2 )) CPU(s), $want task threads" "$T/log" ||
        fail "the log does not say how nng is sized ($envs $extra)"
}

tasks 2 "SB_T=1" ""
tasks 6 "SB_T=1" "--nng-cpus 3"
tasks 8 "SB_NNG_CPUS=4" "--nng-cpus 3"
"$S" store --nng-cpus lots --data-dir "$T/x" >"$T/log" 2>&1
[ $? = 2 ] || fail "--nng-cpus lots should exit 2"
grep -q "bad value for --nng-cpus: 'lots'" "$T/log" || fail "--nng-cpus lots: no clear message"
echo "ok: 2 task threads by default, 6 with --nng-cpus 3, 8 with SB_NNG_CPUS=4"
