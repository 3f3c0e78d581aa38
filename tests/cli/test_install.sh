#!/usr/bin/env bash
# test_install.sh: `cmake --install BUILD --prefix $(mktemp -d)` puts
# sbd, sb, sb-bench, libsb and its headers, sb.pc, the systemd unit, the
# config file and the man pages where they belong, with that prefix in
# them; `pkg-config --cflags --libs sb` from there builds a small client
# (tests/install/sb_hello.c) that logs in to the installed sbd. The unit
# passes systemd-analyze verify and the man pages groff's warnings (when
# those tools are there); an edited config file survives a reinstall;
# DESTDIR staging keeps the prefix out of the staging dir.
set -u
: "${SB_BIN_DIR:?}" "${SB_SOURCE_DIR:?}" "${SB_BUILD_DIR:?}"
. "$SB_SOURCE_DIR/tests/golden/golden_lib.sh"
command -v pkg-config >/dev/null || { echo "SKIP: no pkg-config"; exit 77; }
P=$(mktemp -d "${TMPDIR:-/tmp}/sb-prefix.XXXXXX")
SBD_PID=
trap '[ -n "$SBD_PID" ] && kill $SBD_PID 2>/dev/null && wait $SBD_PID 2>/dev/null; rm -rf "$P"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$SB_BUILD_DIR" --prefix "$P" >"$P.log" 2>&1 || { cat "$P.log"; fail "cmake --install exited $?"; }
rm -f "$P.log"
LIB=$(cd "$P" && ls -d lib*/libsb.a | head -n 1 | xargs dirname)
for f in bin/sbd bin/sb bin/sb-bench "$LIB/libsb.a" "$LIB/libsb_proto.a" "$LIB/libsb_rpc.a" \
         include/switchboard/sb.h include/switchboard/rpc.h \
         include/switchboard/social.pb-c.h include/switchboard/social.sb.h \
         "$LIB/pkgconfig/sb.pc" lib/systemd/system/sbd.service \
         etc/switchboard/sbd.conf share/man/man8/sbd.8 share/man/man1/sb.1 \
         share/doc/switchboard/sbd.conf.example; do
    [ -e "$P/$f" ] || fail "not installed: $f"
done
for b in sbd sb sb-bench; do
    [ -x "$P/bin/$b" ] && "$P/bin/$b" --version >/dev/null || fail "$b does not run from the prefix"
done
grep -qx "prefix=$P" "$P/$LIB/pkgconfig/sb.pc" || fail "sb.pc: $(grep prefix= "$P/$LIB/pkgconfig/sb.pc")"
grep -qx "ExecStart=$P/bin/sbd --config $P/etc/switchboard/sbd.conf" "$P/lib/systemd/system/sbd.service" ||
    fail "the unit's ExecStart: $(grep ExecStart "$P/lib/systemd/system/sbd.service")"
"$P/bin/sbd" --config "$P/etc/switchboard/sbd.conf" --print-config >/dev/null ||
    fail "the installed config file does not load"
echo "ok   installed in $P"

export PKG_CONFIG_PATH=$P/$LIB/pkgconfig
flags=$(pkg-config --cflags --libs sb) || fail "pkg-config --cflags --libs sb"
case "$flags" in *"-I$P/include/switchboard"*"-L$P/$LIB"*) ;; *) fail "pkg-config: $flags" ;; esac
# SB_EXTRA_CFLAGS: the sanitizers, when the libraries were built with them
cc -std=gnu11 -Wall -Wextra -Werror ${SB_EXTRA_CFLAGS:-} -o "$P/sb_hello" \
    "$SB_SOURCE_DIR/tests/install/sb_hello.c" $flags || fail "the client did not build with pkg-config's flags"
pick_ports || fail "no free ports"
"$P/bin/sbd" --data-dir "$P/data" --base-port "$SBD_PORT" --host 127.0.0.1 --pw-cost fast 2>"$P/sbd.log" &
SBD_PID=$!
wait_accepts "$SBD_PORT" $SBD_PID || fail "the installed sbd did not start: $(tail -5 "$P/sbd.log")"
out=$("$P/sb_hello" 127.0.0.1 "$SBD_PORT" hello pw) || fail "the client: $out"
echo "$out" | grep -qE '^hello logged in on app-[0-9]+$' || fail "the client said: $out"
"$P/sb_hello" 127.0.0.1 "$SBD_PORT" hello wrong 2>"$P/err" && fail "a wrong password logged in"
grep -qx "sb_hello: No such user or password error" "$P/err" || fail "the client's error: $(cat "$P/err")"
kill -TERM $SBD_PID; wait $SBD_PID; SBD_PID=
echo "ok   pkg-config builds a client that logs in to the installed sbd"

if command -v systemd-analyze >/dev/null; then
    MANPATH=$P/share/man systemd-analyze verify "$P/lib/systemd/system/sbd.service" ||
        fail "systemd-analyze verify sbd.service"
    echo "ok   systemd-analyze verify"
fi
if command -v groff >/dev/null; then
    for m in man8/sbd.8 man1/sb.1; do
        w=$(groff -man -ww -z "$P/share/man/$m" 2>&1)
        [ -z "$w" ] || fail "groff warns about $m: $w"
    done
    echo "ok   man pages without warnings"
fi

echo "capacity = 7" >>"$P/etc/switchboard/sbd.conf"
cmake --install "$SB_BUILD_DIR" --prefix "$P" >/dev/null 2>&1 || fail "reinstall"
grep -qx "capacity = 7" "$P/etc/switchboard/sbd.conf" || fail "a reinstall replaced the edited config file"
S=$P/stage
DESTDIR=$S cmake --install "$SB_BUILD_DIR" --prefix /opt/sbtest >/dev/null 2>&1 || fail "DESTDIR install"
grep -qx "prefix=/opt/sbtest" "$S/opt/sbtest/$LIB/pkgconfig/sb.pc" || fail "DESTDIR: sb.pc"
grep -qx "ExecStart=/opt/sbtest/bin/sbd --config /opt/sbtest/etc/switchboard/sbd.conf" \
    "$S/opt/sbtest/lib/systemd/system/sbd.service" || fail "DESTDIR: the unit"
echo "ok   the config survives a reinstall; DESTDIR staging"
