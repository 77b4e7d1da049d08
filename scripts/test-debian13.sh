#!/bin/sh
# Build libsimclr and run its unit tests against Debian 13's oneDNN 3.x,
# inside a debootstrap chroot, so that the code in lib/nn/ keeps building
# against both oneDNN 2.6 (Debian 12) and 3.x (Debian 13).
#
#   scripts/test-debian13.sh [CHROOT_DIR]     (default: /var/tmp/simclr-trixie)
#
# Needs root. The chroot is made once and reused; the source tree is copied
# into it on every run, so the chroot never writes into the checkout.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-/var/tmp/simclr-trixie}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ "$(id -u)" -ne 0 ]; then
    echo "test-debian13: needs root (debootstrap and chroot)" >&2
    exit 1
fi

if [ ! -x "$root/usr/bin/apt-get" ]; then
    if ! command -v debootstrap >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
    fi
    debootstrap --variant=minbase trixie "$root" "$mirror"
fi

# The same package list as the bootstrap script, minus what the chroot
# does not need (MPI, the ABI tools). PyTorch stays: the encoder tests
# generate their reference tensors with it.
packages="build-essential pkg-config meson ninja-build cmake
  libdnnl-dev ocl-icd-opencl-dev opencl-c-headers libpng-dev
  libjpeg62-turbo-dev zlib1g-dev libjson-c-dev libcmocka-dev
  python3 python3-numpy python3-torch python3-torchvision"

cleanup() {
    umount "$root/proc" 2>/dev/null || true
}
trap cleanup EXIT
mount -t proc proc "$root/proc"

chroot "$root" sh -c "export DEBIAN_FRONTEND=noninteractive &&
    apt-get update -qq && apt-get install -y -qq --no-install-recommends \
    $(echo $packages)"

rm -rf "$root/src/libsimclr"
mkdir -p "$root/src"
git -C "$top" ls-files -z | (cd "$top" && xargs -0 tar cf -) |
    (mkdir -p "$root/src/libsimclr" && cd "$root/src/libsimclr" && tar xf -)

chroot "$root" sh -c "cd /src/libsimclr &&
    echo \"oneDNN: \$(dpkg-query -W -f '\${Version}' libdnnl-dev)\" &&
    meson setup build -Dwerror=true -Dmpi=disabled -Ddocs=disabled &&
    ninja -C build &&
    meson test -C build --print-errorlogs --num-processes 2 \
        --suite unit --suite abi"
