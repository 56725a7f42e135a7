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
"$(dirname "$0")/apt-install.sh" "for the GPU tests" mesa-vulkan-drivers libvulkan1
have || { echo "error: a Vulkan driver is still missing after installing mesa-vulkan-drivers" >&2; exit 1; }
