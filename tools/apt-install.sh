#!/usr/bin/env bash
# Installs Debian packages, as root or through sudo, for the tools/install-*.sh scripts:
#   tools/apt-install.sh "<what for>" package...
set -euo pipefail
why=$1
shift
echo "installing $* $why"
if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "error: not root to install them: apt-get install $*" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
