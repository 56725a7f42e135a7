#!/usr/bin/env bash
# The PostgreSQL job queue's tests (relayer/tests/pg_queue.rs) start a throwaway cluster with
# Debian's initdb and pg_ctl (in /usr/lib/postgresql/<version>/bin; the package's own server is
# never used). Installs the postgresql package when they are missing; quick when they are there.
set -euo pipefail
have() {
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && command -v runuser >/dev/null
}
have && exit 0
echo "installing PostgreSQL (postgresql) for the job queue's tests"
if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "error: no PostgreSQL, and not root to install it: apt-get install postgresql" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
have || { echo "error: initdb is still missing after installing postgresql" >&2; exit 1; }
