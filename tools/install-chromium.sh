#!/usr/bin/env bash
# The relayer's status page test (tools/page-test.mjs) drives a headless Chromium through
# playwright-core, which brings no browser of its own: it uses Debian's chromium package, with
# fonts-liberation so that text renders. Installs them when missing; quick when they are there.
set -euo pipefail
have() {
    [ -x /usr/bin/chromium ] && /usr/bin/chromium --version >/dev/null 2>&1
}
have && exit 0
echo "installing Chromium (chromium, fonts-liberation) for the status page test"
if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "error: no Chromium, and not root to install it: apt-get install chromium fonts-liberation" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
have || { echo "error: /usr/bin/chromium is still missing or does not run after installing chromium" >&2; exit 1; }
