#!/bin/sh
# The main job, from a fresh Debian 12 machine: install what is needed,
# build the library and its programs, and show the two augmented views
# that training would make of Fashion-MNIST images (a PNG grid).
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

fashion=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
"$build/examples/simclr-augment" --preset cifar --size 28 --count 12 \
    --out "$build/fashion-views.png" --data "$fashion"
echo "demo: each row of $build/fashion-views.png is a Fashion-MNIST image"
echo "      and the two views the network would be trained to match"
