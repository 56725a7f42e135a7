#!/usr/bin/env bash
# One prepared run on a machine with an NVIDIA GPU and no display (this workplace's device
# machine, or any headless server): the paper parameter set's commitments and whole proofs on
# the GPU next to the same machine's CPU cores. Built here first (`make gpu-bundle`: release
# binaries into .gpu-run/, with Debian's Vulkan loader), then run there:
#   bash tools/device-gpu-bench.sh [OUT_DIR]
# Writes gpu.md (commitments) and prover-bench.txt (whole proofs) to OUT_DIR.
set -uo pipefail
out="${1:-${OUT:-/tmp/gpu-bench}}"
mkdir -p "$out"
cd "$(dirname "$0")/.."
# The Vulkan loader, where the machine lacks one (carried as .debs, unpacked into /).
if ! ldconfig -p | grep 'libvulkan\.so\.1' >/dev/null; then
    for f in .gpu-run/*.deb; do [ -e "$f" ] && dpkg -x "$f" /; done
    ldconfig
fi
# The installed ICD may name the GLX library, which fails headless; point at the EGL one.
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
    egl=$(ls /usr/local/nvidia/lib64/libEGL_nvidia.so.0 /usr/lib/x86_64-linux-gnu/libEGL_nvidia.so.0 2>/dev/null | head -1)
    if [ -n "$egl" ]; then
        printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3"}}\n' "$egl" >/tmp/nvidia_egl_icd.json
        icd=/tmp/nvidia_egl_icd.json
    fi
    [ -e "$icd" ] && export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/machine.txt"
nproc | sed 's/^/cores: /' | tee -a "$out/machine.txt"
(cd .gpu-run && ./merkle small default paper --out "$out/gpu.md") 2>&1 | tail -8
./.gpu-run/crowdprove-prover bench --params paper --jobs 2 --backend gpu 2>&1 | tee "$out/prover-bench.txt" | tail -8
