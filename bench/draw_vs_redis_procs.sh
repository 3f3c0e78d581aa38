#!/usr/bin/env bash
# draw_vs_redis_procs.sh: the draw comparison with every server in its own
# process, as deployed: `sbd draw` (each engine in turn) and redis-server
# (appendfsync always, then no persistence), each on a free loopback port
# with a temp dir; sb-bench drives one of them and Redis in alternating
# rounds (`--draw URL` + `--redis-port`). sb-bench draw's default runs the
# draw server inside the bench process instead; this checks that the
# figures do not depend on that.
#
# usage: bench/draw_vs_redis_procs.sh [BIN_DIR] [SECONDS] [ROUNDS]
#   BIN_DIR: where sbd and sb-bench are (build/bin); SECONDS per round (4),
#   ROUNDS per pairing (3). Needs redis-server and redis-cli.
set -euo pipefail
usage() { sed -n 's/^# \{0,1\}//; 10,12p' "$0"; }
case "${1:-}" in -h|--help) usage; exit 0 ;; -*) usage >&2; exit 2 ;; esac
BIN=${1:-build/bin}
SECS=${2:-4}
ROUNDS=${3:-3}
for n in "$SECS" "$ROUNDS"; do
    case "$n" in ''|*[!0-9]*|0) echo "draw_vs_redis_procs: SECONDS and ROUNDS are whole numbers above 0, not '$n'" >&2; usage >&2; exit 2 ;; esac
done
[ -x "$BIN/sbd" ] && [ -x "$BIN/sb-bench" ] || {
    echo "draw_vs_redis_procs: no sbd and sb-bench in $BIN (build first: BUILD_DIR=build-rel bash scripts/build.sh -DCMAKE_BUILD_TYPE=Release)" >&2
    exit 2
}
for t in redis-server redis-cli; do
    command -v "$t" >/dev/null || { echo "draw_vs_redis_procs: $t not found (bash scripts/setup.sh installs it)" >&2; exit 2; }
done
TMP=$(mktemp -d /tmp/sb-draw-procs.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # port: until something accepts on it (10 s at most)
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "draw_vs_redis_procs: nothing listens on $1" >&2
    return 1
}

start_redis() { # name persistence-args...: sets RPORT
    local name=$1; shift
    RPORT=$(free_port)
    mkdir -p "$TMP/$name"
    redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$TMP/$name" \
        --save "" "$@" >"$TMP/$name.log" 2>&1 &
    PIDS+=($!)
    wait_port "$RPORT"
}

start_draw() { # engine: sets DPORT
    DPORT=$(free_port)
    "$BIN/sbd" draw --data-dir "$TMP/draw-$1" --pool-size 100000000 \
        --listen "tcp://127.0.0.1:$DPORT" --draw-engine "$1" \
        >"$TMP/draw-$1.log" 2>&1 &
    PIDS+=($!)
    wait_port "$DPORT"
}

start_redis always --appendonly yes --appendfsync always
RALWAYS=$RPORT
start_redis nopersist --appendonly no
RNONE=$RPORT
echo "# $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
for engine in epoll nng; do
    start_draw "$engine"
    for r in always nopersist; do
        port=$RALWAYS
        [ "$r" = nopersist ] && port=$RNONE
        echo "## sbd draw --draw-engine $engine (own process) vs redis $r (own process)"
        "$BIN/sb-bench" draw --draw "tcp://127.0.0.1:$DPORT" --vs-redis \
            --redis-port "$port" --seconds "$SECS" --rounds "$ROUNDS" 2>/dev/null |
            grep -E '^(draw|redis|ratio)'
    done
done
