# chat_lib.sh: helpers the chat shell tests share (sourced): golden_lib's
# sbd start/stop, with $SBD_EXTRA flags passed through a wrapper sbd in a
# temp bin dir, and a bounded wait for a condition.
. "$SB_SOURCE_DIR/tests/golden/golden_lib.sh"
need_binaries
REAL_BIN=$SB_BIN_DIR
SBD_EXTRA=""
WRAP_BIN=$(mktemp -d "${TMPDIR:-/tmp}/sb-chatbin.XXXXXX")
ln -s "$REAL_BIN/sb" "$WRAP_BIN/sb"
cat >"$WRAP_BIN/sbd" <<EOW
#!/usr/bin/env bash
exec "$REAL_BIN/sbd" "\$@" --pw-cost fast \$SBD_EXTRA
EOW
chmod +x "$WRAP_BIN/sbd"
SB_BIN_DIR=$WRAP_BIN
export SBD_EXTRA

chat_sbd_start() { sbd_start; }

# wait_for SECONDS CMD...: polls CMD every 0.1 s; 1 when it never held.
wait_for() {
    local n=$(( $1 * 10 )); shift
    while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
    return 1
}

# plain_chat_start FIRST-LINES: `sb chat` without a terminal, reading a
# fifo held open on fd 3 (FIRST-LINES written to it), output in
# $WRAP_BIN/out, its pid in CHAT_PID; plain TEXT: that output shows TEXT.
plain_chat_start() {
    mkfifo "$WRAP_BIN/in"
    "$SB_BIN_DIR/sb" chat 127.0.0.1 $SBD_PORT <"$WRAP_BIN/in" >"$WRAP_BIN/out" 2>&1 &
    CHAT_PID=$!
    exec 3>"$WRAP_BIN/in"
    printf "$1" >&3
}
plain() { grep -qF -- "$1" "$WRAP_BIN/out"; }

# tmux helpers for a test that runs a client in session $T (set by it):
# the visible screen, whether it shows a text, the cursor's position.
pane() { tmux capture-pane -p -t "$T"; }
has() { pane | grep -qF -- "$1"; }
cursor() { tmux display -p -t "$T" '#{cursor_x},#{cursor_y}'; }
# last_row TEXT: the last non-empty row of the screen is TEXT
last_row() { [ "$(pane | grep -v '^$' | tail -n 1)" = "$1" ]; }
