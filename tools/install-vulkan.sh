#!/usr/bin/env bash
# The GPU tests need a Vulkan driver. On a machine without a GPU that is Mesa's lavapipe, a
# software Vulkan driver (Debian/Ubuntu: mesa-vulkan-drivers, with the loader libvulkan1).
# Installs them when missing; quick when they are there.
set -euo pipefail
have() {
    compgen -G '/usr/share/vulkan/icd.d/*.json' >/dev/null || compgen -G '/etc/vulkan/icd.d/*.json' >/dev/null || return 1
    ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null
}
have && exit 0
echo "installing a Vulkan driver (mesa-vulkan-drivers, libvulkan1) for the GPU tests"
if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "error: no Vulkan driver, and not root to install one: apt-get install mesa-vulkan-drivers libvulkan1" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends mesa-vulkan-drivers libvulkan1 >/dev/null
have || { echo "error: a Vulkan driver is still missing after installing mesa-vulkan-drivers" >&2; exit 1; }
