#!/usr/bin/env bash
# test_sbd_trust.sh: the trust layer as an operator meets it, with real
# processes. `sbd certs DIR` makes every file with the right mode, its
# certificates verify against its CA and not against another deployment's,
# a second run replaces nothing and a lost key is made again under the
# same CA; internal roles refuse to listen where other hosts reach them
# without mutual TLS, saying how to fix it; sbd makes its admin token at
# the first start (0600) and reads the same one back at the next.
set -u
: "${SB_BIN_DIR:?}"
SBD=$SB_BIN_DIR/sbd
T=$(mktemp -d "${TMPDIR:-/tmp}/sbd-trust.XXXXXX")
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null && wait $PID 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; [ -f "$T/out" ] && { echo "--- out"; cat "$T/out"; }; [ -f "$T/err" ] && { echo "--- err"; cat "$T/err"; }; exit 1; }
command -v openssl >/dev/null || { echo "skip: no openssl to check the certificates with"; exit 77; }
mode() { stat -c %a "$1"; }
ROLES="store login orchestrator app draw bus web operator"

# ---- sbd certs ----
"$SBD" certs "$T/d" >"$T/out" 2>"$T/err" || fail "sbd certs exited $?"
[ "$(mode "$T/d")" = 700 ] || fail "DIR is $(mode "$T/d"), not 700"
for f in ca.crt $(for r in $ROLES; do echo "$r.crt"; done); do
    [ "$(mode "$T/d/$f")" = 644 ] || fail "$f is $(mode "$T/d/$f"), not 644"
done
for f in ca.key keys admin.token login.cred orchestrator.cred web.cred \
         $(for r in $ROLES; do echo "$r.key"; done); do
    [ "$(mode "$T/d/$f")" = 600 ] || fail "$f is $(mode "$T/d/$f"), not 600 (a secret)"
done
[ "$(ls "$T/d" | wc -l)" = 23 ] || fail "sbd certs made $(ls "$T/d" | wc -l) files, not 23"
grep -q "^23 file(s) made, 0 kept" "$T/out" || fail "the summary"
grep -q "^  store  *ca.crt store.crt store.key keys$" "$T/out" || fail "which host needs what"
for r in $ROLES; do
    openssl verify -CAfile "$T/d/ca.crt" "$T/d/$r.crt" >/dev/null 2>&1 ||
        fail "$r.crt does not verify against ca.crt"
    openssl x509 -in "$T/d/$r.crt" -noout -ext subjectAltName,extendedKeyUsage 2>/dev/null |
        tr -d ' \n' | grep -q "DNS:$r.switchboard.internal.*TLSWebServerAuthentication,TLSWebClientAuthentication\|TLSWebServerAuthentication,TLSWebClientAuthentication.*DNS:$r.switchboard.internal" ||
        fail "$r.crt: not named $r.switchboard.internal for both TLS ends"
    # the key is the certificate's
    [ "$(openssl x509 -in "$T/d/$r.crt" -noout -pubkey | openssl md5)" = \
      "$(openssl pkey -in "$T/d/$r.key" -pubout | openssl md5)" ] || fail "$r.key is not $r.crt's"
done
openssl x509 -in "$T/d/ca.crt" -noout -ext basicConstraints 2>/dev/null | grep -q "CA:TRUE" ||
    fail "ca.crt is not a CA"
openssl verify -CAfile "$T/d/ca.crt" "$T/d/ca.crt" >/dev/null 2>&1 || fail "ca.crt is not self-signed"
grep -qE '^sb1:login:login:[0-9a-f]{64}$' "$T/d/login.cred" || fail "login.cred: $(cat "$T/d/login.cred")"
grep -qE '^[0-9a-f]{64}$' "$T/d/admin.token" || fail "admin.token holds no token"
grep -c '^role-key ' "$T/d/keys" | grep -qx 7 || fail "keys: not a key per role"
echo "ok   sbd certs: 23 files, secrets 0600, certificates verify against the CA"

# another deployment's CA does not vouch for ours
"$SBD" certs "$T/e" >/dev/null 2>&1 || fail "a second deployment"
openssl verify -CAfile "$T/e/ca.crt" "$T/d/store.crt" >/dev/null 2>&1 &&
    fail "deployment e's CA verifies d's store certificate"
cmp -s "$T/d/keys" "$T/e/keys" && fail "two deployments share role keys"
echo "ok   another deployment's CA refuses our certificates"

# run again: nothing replaced; a lost pair made again under the same CA
sum() { (cd "$T/d" && md5sum * | sort); }
before=$(sum)
"$SBD" certs "$T/d" >"$T/out" 2>"$T/err" || fail "second run exited $?"
[ "$(sum)" = "$before" ] || fail "a second run changed files"
grep -q "^0 file(s) made, 23 kept" "$T/out" || fail "second run's summary"
rm "$T/d/store.key" "$T/d/store.crt"
"$SBD" certs "$T/d" --id app-7 >"$T/out" 2>"$T/err" || fail "third run exited $?"
grep -q "^3 file(s) made" "$T/out" || fail "third run: not store.key, store.crt, app-7.cred"
openssl verify -CAfile "$T/d/ca.crt" "$T/d/store.crt" >/dev/null 2>&1 || fail "the new store.crt"
grep -qE '^sb1:app:app-7:[0-9a-f]{64}$' "$T/d/app-7.cred" || fail "app-7.cred"
[ "$(mode "$T/d/app-7.cred")" = 600 ] || fail "app-7.cred mode"
rm "$T/d/login.key"
"$SBD" certs "$T/d" >"$T/out" 2>"$T/err" && fail "a certificate without its key was accepted"
grep -q "login.crt is there without its login.key: remove it" "$T/err" || fail "the lone certificate's message"
rm "$T/d/login.crt"
"$SBD" certs "$T/d" >/dev/null 2>&1 || fail "after removing the pair"
echo "ok   sbd certs never replaces a file, makes what is lost under the same CA"

# ---- internal roles refuse other hosts without mutual TLS ----
refuses() { # ROLE-ARGS...: exits 1 at once, says why and how to fix it
    timeout 20 "$SBD" "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    [ $rc = 1 ] || fail "sbd $* exited $rc, want 1 (a refusal)"
    grep -q "refusing to listen on" "$T/err" || fail "sbd $*: no refusal said"
    grep -q "sbd certs DIR" "$T/err" || fail "sbd $*: the fix is not said"
}
P=$((20000 + RANDOM % 10000))
refuses store --listen "tcp://0.0.0.0:$P" --data-dir "$T/data"
grep -q "tcp://0.0.0.0:$P is reachable from other hosts and has no TLS" "$T/err" || fail "the store's reason"
refuses store --listen "tcp://192.0.2.1:$P" --data-dir "$T/data"
refuses store --listen "tls+tcp://0.0.0.0:$P" --data-dir "$T/data"
grep -q "has TLS but no certificate, key and CA" "$T/err" || fail "tls without a --tls-dir"
refuses orchestrator --listen "tcp://0.0.0.0:$P" --data-dir "$T/data"
refuses bus --host 192.0.2.1 --base-port "$P"
# with the deployment's certificates it listens (mutual TLS)
timeout 60 "$SBD" store --listen "tls+tcp://127.0.0.1:$P" --tls-dir "$T/d" \
    --data-dir "$T/data" >"$T/out" 2>"$T/err" &
PID=$!
for _ in $(seq 100); do grep -q "serving sb.store.Store" "$T/err" && break; sleep 0.1; done
grep -q "serving sb.store.Store on tls+tcp://127.0.0.1:$P" "$T/err" || fail "the store on mutual TLS did not start"
kill $PID; wait $PID; PID=
echo "ok   store, orchestrator and bus refuse a reachable address without mutual TLS; with --tls-dir the store serves tls+tcp://"

# ---- the admin token of sbd all ----
B=$((20000 + RANDOM % 10000))
start_all() {
    "$SBD" --base-port "$B" --data-dir "$T/all" --http-port 0 >"$T/out" 2>"$T/err" &
    PID=$!
    for _ in $(seq 150); do grep -q "all roles up" "$T/err" && break; sleep 0.1; done
    grep -q "all roles up" "$T/err" || fail "sbd all did not start"
    kill $PID; wait $PID; PID=
}
start_all
grep -q "admin token made in $T/all/admin.token (sb admin --token-file $T/all/admin.token)" "$T/err" ||
    fail "the first start does not say where the admin token is"
[ "$(mode "$T/all/admin.token")" = 600 ] || fail "admin.token is $(mode "$T/all/admin.token")"
tok=$(cat "$T/all/admin.token")
start_all
grep -q "admin token in $T/all/admin.token" "$T/err" || fail "the second start"
[ "$(cat "$T/all/admin.token")" = "$tok" ] || fail "the second start made another token"
chmod 644 "$T/all/admin.token"
timeout 20 "$SBD" --base-port "$B" --data-dir "$T/all" --http-port 0 >"$T/out" 2>"$T/err"
[ $? = 1 ] || fail "sbd started with an admin token others can read"
grep -q "chmod 600 $T/all/admin.token" "$T/err" || fail "the exposed token's message"
echo "ok   sbd all makes its admin token once (0600), reuses it, refuses an exposed one"
