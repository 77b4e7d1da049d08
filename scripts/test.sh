#!/bin/sh
# Set everything up on a fresh Debian 12 machine, build with warnings as
# errors, and run the whole test suite.
#
#   scripts/test.sh [BUILD_DIR]        (default: build)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
cd "$top"

sh scripts/bootstrap.sh
if [ -d "$build" ]; then
    meson setup --reconfigure "$build" -Dwerror=true
else
    meson setup "$build" -Dwerror=true
fi
ninja -C "$build"
meson test -C "$build" --print-errorlogs --num-processes 2
