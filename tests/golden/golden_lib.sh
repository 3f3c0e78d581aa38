# golden_lib.sh: shared by run_golden.sh and run_conformance.sh: start a
# fresh sbd on 127.0.0.1 (a temp data dir, free ports), run one case
# file through `sb`, stop sbd. Everything is bounded in time.
# Needs: SB_BIN_DIR (build/bin). Sourced, not run.

SB_CASE_TIMEOUT=${SB_CASE_TIMEOUT:-120}
SBD_PID=
SBD_DIR=
SBD_PORT=

# A port is free if nothing accepts on it.
port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Picks a base port P with P..P+6 free (sbd uses seven). P lies below the
# kernel's ephemeral range (32768 up), so the outgoing connections of tests
# running beside this one cannot take the ports between check and bind.
pick_ports() {
    local try p i ok
    for try in $(seq 1 50); do
        p=$(( 10000 + (RANDOM * 32768 + RANDOM) % 22000 ))
        ok=1
        for i in 0 1 2 3 4 5 6 7; do
            port_free $((p + i)) || { ok=0; break; }
        done
        if [ $ok = 1 ]; then SBD_PORT=$p; return 0; fi
    done
    echo "no free ports" >&2
    return 1
}

# Starts sbd on a fresh data dir; waits (at most 30 s) until login accepts.
# A port can still be taken between the check and sbd's bind by another
# test; then sbd exits saying "Address in use" and we try other ports
# (five tries at most).
sbd_start() {
    local i try
    SBD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sb-golden.XXXXXX")
    for try in 1 2 3 4 5; do
        pick_ports || return 1
        rm -rf "$SBD_DIR/data"
        "$SB_BIN_DIR/sbd" --data-dir "$SBD_DIR/data" --base-port "$SBD_PORT" \
            2>"$SBD_DIR/sbd.log" &
        SBD_PID=$!
        for i in $(seq 1 300); do
            if ! kill -0 "$SBD_PID" 2>/dev/null; then
                wait "$SBD_PID" 2>/dev/null
                SBD_PID=
                if grep -q "in use" "$SBD_DIR/sbd.log" && [ $try -lt 5 ]; then
                    echo "sbd: ports from $SBD_PORT taken meanwhile; other ports" >&2
                    continue 2
                fi
                echo "sbd exited at start; its log:" >&2
                tail -n 30 "$SBD_DIR/sbd.log" >&2
                return 1
            fi
            (exec 3<>"/dev/tcp/127.0.0.1/$SBD_PORT") 2>/dev/null && return 0
            sleep 0.1
        done
        echo "sbd did not accept on $SBD_PORT within 30 s" >&2
        return 1
    done
    return 1
}

# wait_accepts PORT PID: waits (30 s at most) until something accepts on
# 127.0.0.1:PORT; 1 when it never did or process PID exited first.
wait_accepts() {
    local i
    for i in $(seq 1 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# Stops sbd: TERM, then KILL after 10 s; removes its data dir.
sbd_stop() {
    local i
    if [ -n "$SBD_PID" ]; then
        kill -TERM "$SBD_PID" 2>/dev/null
        for i in $(seq 1 100); do
            kill -0 "$SBD_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SBD_PID" 2>/dev/null
        wait "$SBD_PID" 2>/dev/null
        SBD_PID=
    fi
    [ -n "$SBD_DIR" ] && rm -rf "$SBD_DIR"
    SBD_DIR=
}

# run_case IN ACTUAL: feeds IN to `sb 127.0.0.1 PORT`, output to ACTUAL.
run_case() {
    timeout -k 5 "$SB_CASE_TIMEOUT" "$SB_BIN_DIR/sb" 127.0.0.1 "$SBD_PORT" \
        <"$1" >"$2"
}

# Exit 77 (ctest SKIP) unless the programs exist.
need_binaries() {
    if [ ! -x "$SB_BIN_DIR/sbd" ] || [ ! -x "$SB_BIN_DIR/sb" ]; then
        echo "SKIP: $SB_BIN_DIR/sbd or sb not built yet"
        exit 77
    fi
}
