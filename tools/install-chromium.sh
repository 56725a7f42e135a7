#!/usr/bin/env bash
# The relayer's status page test (tools/page-test.mjs) drives a headless Chromium through
# playwright-core, which brings no browser of its own: it uses Debian's chromium package, with
# fonts-liberation so that text renders. Installs them when missing; quick when they are there.
set -euo pipefail
have() {
    [ -x /usr/bin/chromium ] && /usr/bin/chromium --version >/dev/null 2>&1
}
have && exit 0
"$(dirname "$0")/apt-install.sh" "for the status page test" chromium fonts-liberation
have || { echo "error: /usr/bin/chromium is still missing or does not run after installing chromium" >&2; exit 1; }
