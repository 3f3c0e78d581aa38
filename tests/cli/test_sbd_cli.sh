#!/usr/bin/env bash
# test_sbd_cli.sh: sbd's command line as a user meets it. Every role's
# --help lists exactly that role's flags (the spec below, not the table
# read back) and no test-only one; --version everywhere; an unknown
# option, an unknown role, another role's flag, a bad value, a missing
# value each said plainly with exit 2; the config file under the flags
# (--print-config, and a real start on the ports the flags name, not the
# file's); a bad config file named with its line; --print-config's output
# read back as a config file gives the same configuration; sbd.8 names
# every flag a role shows.
set -u
: "${SB_BIN_DIR:?}" "${SB_SOURCE_DIR:?}"
SBD=$SB_BIN_DIR/sbd
T=$(mktemp -d "${TMPDIR:-/tmp}/sbd-cli.XXXXXX")
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null && wait $PID 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; [ -f "$T/out" ] && { echo "--- out"; cat "$T/out"; }; [ -f "$T/err" ] && { echo "--- err"; cat "$T/err"; }; exit 1; }
# run EXPECTED-STATUS ARGS...: sbd's stdout in $T/out, stderr in $T/err
run() {
    local want=$1; shift
    "$SBD" "$@" >"$T/out" 2>"$T/err"; local rc=$?
    [ "$rc" = "$want" ] || fail "sbd $* exited $rc, want $want"
}

# What each role takes (the issue's per-role help; ORCH = the fleet's).
COMMON="--base-port --nng-cpus"
ORCH="--http-port --min-servers --max-servers --spare --idle-grace --launch-timeout --driver --fleet-name --app-exe --ec2-image --ec2-type --ec2-subnet --ec2-security-groups --ec2-key-name --ec2-instance-profile --ec2-app-args --advertise-orchestrator"
declare -A WANT=(
  [all]="$COMMON --data-dir --host --listen --pw-cost --capacity --session-idle-ms --client-idle-s --max-conns-per-addr --pool-size --draw-engine --draw --orchestrator --web-port $ORCH"
  [store]="$COMMON --data-dir --listen --tls-dir"
  [login]="$COMMON --host --listen --pw-cost --client-idle-s --max-conns-per-addr --store --orchestrator --bus-in"
  [app]="$COMMON --host --listen --capacity --session-idle-ms --draw --store --orchestrator --bus-in --bus-out --advertise --id --instance-id"
  [orchestrator]="$COMMON --data-dir --host --listen --capacity $ORCH"
  [draw]="$COMMON --data-dir --host --listen --pool-size --draw-engine"
  [bus]="$COMMON --host"
  [web]="$COMMON --host --web-port --login"
  [certs]="--tls-dir --id"
)
sorted() { tr ' ' '\n' | grep -v '^$' | sort -u; }
for role in all store login app orchestrator draw bus web certs; do
    run 0 "$role" --help
    grep -qE "^usage: sbd $role( DIR)? \[FLAGS\]" "$T/out" || fail "$role --help: no usage line"
    got=$(grep -oE '^  --[a-z0-9-]+' "$T/out" | tr -d ' ' | grep -vE '^--(config|print-config|version)$' | sorted)
    want=$(echo "${WANT[$role]}" | sorted)
    [ "$got" = "$want" ] || fail "sbd $role --help lists other flags than its own: $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')"
    grep -qE -- '--(test-clock-skew-ms|app-store)' "$T/out" && fail "$role --help shows a test-only flag"
    awk 'length > 79 { exit 1 }' "$T/out" || fail "$role --help has lines over 79 columns"
    # the man page names every flag the help shows
    for f in $got; do
        grep -qF -- "$(echo "$f" | sed 's/-/\\-/g')" "$SB_SOURCE_DIR/packaging/sbd.8" ||
            fail "sbd.8 does not document $f"
    done
done
run 0 --help
grep -q "^usage: sbd \[ROLE\] \[FLAGS\]" "$T/out" || fail "sbd --help: no usage"
for role in all store login app orchestrator draw bus web certs; do
    grep -qE "^  $role +" "$T/out" || fail "sbd --help does not list the role $role"
done
grep -q "status page P+6" "$T/out" && grep -q "web client on 8080 with the default" "$T/out" ||
    fail "sbd --help: where the status page and the web client are"
echo "ok   every role's --help lists its own flags, none test-only"

for prog in sbd sb sb-bench; do
    v=$("$SB_BIN_DIR/$prog" --version) || fail "$prog --version exited $?"
    echo "$v" | grep -qE "^$prog [0-9]+\.[0-9]+\.[0-9]+ \(Switchboard\)$" || fail "$prog --version: $v"
done
run 0 draw --version
echo "ok   --version"

run 2 --bogus
grep -qx "sbd: unknown option --bogus (sbd --help lists them)" "$T/err" || fail "unknown option"
run 2 --version=3 --bogus=1
run 2 frobnicate
grep -q "^sbd: unknown role 'frobnicate'; the roles are:" "$T/err" || fail "unknown role"
grep -qE "^  orchestrator +" "$T/err" || fail "unknown role: the roles not listed"
run 2 login --pool-size 5
grep -qx 'sbd: --pool-size is not a flag of `sbd login` (sbd login --help lists them)' "$T/err" || fail "another role's flag"
run 2 --capacity 0
grep -qx "sbd: bad value for --capacity: '0' (a whole number from 1 to 64)" "$T/err" || fail "bad value"
run 2 --pw-cost=cheap
grep -q "one of interactive|moderate|fast" "$T/err" || fail "bad choice"
run 2 --data-dir
grep -qx "sbd: --data-dir needs a value (sbd --help)" "$T/err" || fail "missing value"
run 2 draw extra
grep -q "unexpected argument 'extra'" "$T/err" || fail "a word after the role"
run 2 10.0.0.1 notaport
grep -q "bad port 'notaport'" "$T/err" || fail "course form with a bad port"
run 0 10.0.0.1 9000 --print-config
grep -qx "host = 10.0.0.1" "$T/out" && grep -qx "base-port = 9000" "$T/out" || fail "course form"
grep -qx "listen = tcp://10.0.0.1:9001" "$T/out" || fail "course form: the draw port"
echo "ok   unknown option, unknown role, wrong role, bad and missing values"

# the config file under the flags
cat >"$T/a.conf" <<EOC
# a comment, then settings of several roles
data-dir = "$T/from file"
pool-size=500
capacity = 5
store = tcp://10.1.1.1:1
--draw-engine = nng

ec2-image = ami-file
EOC
run 0 draw --config "$T/a.conf" --pool-size 7 --print-config
grep -qx "pool-size = 7" "$T/out" || fail "a flag does not override the file"
grep -qx "data-dir = $T/from file" "$T/out" || fail "quoted value from the file"
grep -qx "draw-engine = nng" "$T/out" || fail "--name = value in a file"
grep -q "capacity\|store\|ec2" "$T/out" && fail "draw shows another role's settings"
run 0 all --config "$T/a.conf" --print-config
grep -qx "pool-size = 500" "$T/out" && grep -qx "capacity = 5" "$T/out" &&
    grep -qx "ec2-image = ami-file" "$T/out" || fail "the file's values for all"
# print-config's output is a config file that says the same
run 0 all --config "$T/a.conf" --capacity 9 --http-port 0 --print-config
cp "$T/out" "$T/b.conf"
run 0 all --config "$T/b.conf" --print-config
diff <(grep -v '^# sbd' "$T/b.conf") <(grep -v '^# sbd' "$T/out") >/dev/null ||
    fail "--print-config read back gives another configuration"
grep -qx "capacity = 9" "$T/out" || fail "round trip lost a flag"
printf 'capacity = 5\nbogus-key = 1\n' >"$T/c.conf"
run 2 --config "$T/c.conf"
grep -qx "sbd: $T/c.conf:2: unknown setting 'bogus-key' (keys are sbd's flag names: sbd --help)" "$T/err" || fail "unknown key"
printf '\n\ncapacity = 500\n' >"$T/c.conf"
run 2 --config "$T/c.conf"
grep -qx "sbd: $T/c.conf:3: bad value for capacity: '500' (a whole number from 1 to 64)" "$T/err" || fail "bad value in a file"
printf 'capacity\n' >"$T/c.conf"
run 2 --config "$T/c.conf"
grep -q "c.conf:1: expected \`name = value\`" "$T/err" || fail "a line without ="
run 2 --config "$T/nonexistent.conf"
grep -q "cannot read the config file $T/nonexistent.conf: No such file" "$T/err" || fail "missing file"
printf 'capacity = 5\0\n' >"$T/c.conf"
run 2 --config "$T/c.conf"
grep -q "NUL byte" "$T/err" || fail "a NUL byte in the file"
# test-only flags: accepted, shown once set
run 0 all --test-clock-skew-ms 250 --print-config
grep -qx "test-clock-skew-ms = 250" "$T/out" || fail "a hidden flag is not taken"
run 0 all --print-config
grep -q "test-clock-skew-ms\|app-store" "$T/out" && fail "print-config shows unset test flags"
echo "ok   config file: flags win, quotes, shared files, round trip, errors by line"

# a real start: the file says one port, the flag another; the flag wins
. "$SB_SOURCE_DIR/tests/golden/golden_lib.sh"
pick_ports || fail "no free ports"
flagport=$SBD_PORT
pick_ports || fail "no free ports"
fileport=$SBD_PORT
[ "$flagport" = "$fileport" ] && fail "picked the same ports twice"
printf 'data-dir = %s\nbase-port = %s\npw-cost = fast\n' "$T/data" "$fileport" >"$T/run.conf"
"$SBD" --config "$T/run.conf" --base-port "$flagport" --host 127.0.0.1 2>"$T/sbd.log" &
PID=$!
wait_accepts "$flagport" $PID || fail "sbd did not start: $(tail -5 "$T/sbd.log")"
out=$(printf 'register cfg pw\nlogin cfg pw\n' | "$SB_BIN_DIR/sb" 127.0.0.1 "$flagport")
[ "$out" = $'Success!\nSuccess!' ] || fail "sbd on the flag's port: $out"
port_free "$fileport" || fail "sbd listens on the file's port too"
[ -d "$T/data/store" ] || fail "the file's data-dir was not used"
kill -TERM $PID; wait $PID; rc=$?; PID=
[ $rc = 0 ] || fail "sbd stopped with $rc after SIGTERM"
echo "ok   started on the flag's port, the file's data dir"
