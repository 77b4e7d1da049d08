#!/bin/sh
# Install every Debian package that building, testing and the demo need.
# Safe to run again: apt-get skips what is already installed.
#
# Debian's oneDNN is built with its OpenCL runtime, and its CMake
# configuration looks for the OpenCL headers and loader: without
# ocl-icd-opencl-dev meson cannot find oneDNN at all.
set -eu

packages="
  build-essential pkg-config meson ninja-build cmake clang libclang-rt-14-dev
  libdnnl-dev ocl-icd-opencl-dev opencl-c-headers libpng-dev libjpeg62-turbo-dev zlib1g-dev libjson-c-dev
  libcmocka-dev
  libopenmpi-dev openmpi-bin
  abigail-tools doxygen valgrind time
  python3 python3-numpy python3-pil python3-torch python3-torchvision
  dataset-fashion-mnist
"

if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
else
    echo "bootstrap: run as root or install sudo" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
$as_root apt-get update -qq
# shellcheck disable=SC2086
$as_root apt-get install -y -qq --no-install-recommends $packages
