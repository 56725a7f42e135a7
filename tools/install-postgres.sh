#!/usr/bin/env bash
# The PostgreSQL job queue's tests (relayer/tests/pg_queue.rs) start a throwaway cluster with
# Debian's initdb and pg_ctl (in /usr/lib/postgresql/<version>/bin; the package's own server is
# never used). Installs the postgresql package when they are missing; quick when they are there.
set -euo pipefail
have() {
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && command -v runuser >/dev/null
}
have && exit 0
"$(dirname "$0")/apt-install.sh" "for the job queue's tests" postgresql
have || { echo "error: initdb is still missing after installing postgresql" >&2; exit 1; }
