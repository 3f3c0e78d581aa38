#!/usr/bin/env bash
# run_browser.sh: the browser test (two_browsers.mjs) against a real sbd
# started here on free loopback ports. Exits 77 (skipped, with the reason)
# where Debian's chromium, node or puppeteer-core is missing: install
# them with scripts/setup.sh. Screenshots go to $SB_WEB_SHOTS.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
chromium=${SB_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
    echo "SKIP: $chromium is not installed (apt-get install chromium; scripts/setup.sh does it)"
    exit 77
fi
if ! command -v node >/dev/null; then
    echo "SKIP: node is not installed (scripts/setup.sh installs nodejs)"
    exit 77
fi
if [ ! -d "$here/node_modules/puppeteer-core" ]; then
    echo "SKIP: puppeteer-core is not installed (scripts/setup.sh runs npm ci in $here)"
    exit 77
fi
. "$here/../sbd_web_lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/sb-web-browser.XXXXXX")
cleanup() { sbd_web_stop >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
sbd_web_start "$work" || exit 1
echo "sbd on base port $SBD_PORT, web client $WEB_URL"
export SB_WEB_SHOTS=${SB_WEB_SHOTS:-$work/shots}
timeout 240 node "$here/two_browsers.mjs" "$WEB_URL"
rc=$?
if ! sbd_web_stop; then
    echo "FAIL: sbd did not stop cleanly; the end of its log:"
    tail -40 "$work/sbd.log"
    rc=1
fi
[ $rc -eq 0 ] || { echo "sbd log tail:"; tail -20 "$work/sbd.log"; }
exit $rc
