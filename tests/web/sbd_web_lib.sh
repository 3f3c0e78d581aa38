# sbd_web_lib.sh: start and stop a real sbd (every role, web client on)
# on free loopback ports for the web tests. Source it; it needs
# SB_BIN_DIR. sbd_web_start sets SBD_PID, SBD_PORT, WEB_URL, WEB_PORT;
# sbd_web_stop stops it with SIGTERM and fails when sbd did not exit 0
# (under ASan that includes a leak at exit).

sbd_web_free_base() {
    python3 - <<'PY'
import random, socket
for _ in range(200):
    p = random.randint(12000, 30000)
    ok = True
    for i in range(8):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p + i))
        except OSError:
            ok = False
        finally:
            s.close()
        if not ok:
            break
    if ok:
        print(p)
        break
PY
}

# sbd_web_start WORKDIR [extra sbd flags...]
sbd_web_start() {
    local work=$1
    shift
    SBD_PORT=$(sbd_web_free_base)
    WEB_PORT=$((SBD_PORT + 7))
    "$SB_BIN_DIR/sbd" --data-dir "$work/data" --base-port "$SBD_PORT" \
        --host 127.0.0.1 --pw-cost fast "$@" >"$work/sbd.out" 2>"$work/sbd.log" &
    SBD_PID=$!
    for _ in $(seq 300); do
        if grep -q "^Web client: " "$work/sbd.out" 2>/dev/null; then
            WEB_URL=$(sed -n 's/^Web client: //p' "$work/sbd.out")
            return 0
        fi
        kill -0 "$SBD_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "sbd did not start its web client; its log:" >&2
    tail -30 "$work/sbd.log" >&2
    return 1
}

sbd_web_stop() {
    local rc=0
    [ -n "${SBD_PID:-}" ] || return 0
    kill -TERM "$SBD_PID" 2>/dev/null || true
    for _ in $(seq 200); do
        kill -0 "$SBD_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$SBD_PID" 2>/dev/null; then
        echo "sbd did not stop within 20 s" >&2
        kill -KILL "$SBD_PID" 2>/dev/null || true
        rc=1
    fi
    wait "$SBD_PID" || rc=$?
    SBD_PID=
    return $rc
}
