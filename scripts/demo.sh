#!/bin/sh
# The main job, from a fresh Debian 12 machine: install what is needed,
# build the library and its programs.
#
#   scripts/demo.sh [BUILD_DIR]        (default: build)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
cd "$top"

sh scripts/bootstrap.sh
if [ -d "$build" ]; then
    meson setup --reconfigure "$build"
else
    meson setup "$build"
fi
ninja -C "$build"
echo "demo: built libsimclr $(sh scripts/version.sh) in $build"
