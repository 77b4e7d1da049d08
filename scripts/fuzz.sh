#!/bin/sh
# Build the image decoder's libFuzzer harness with clang and run it for
# SECONDS (default 60) on one core, starting from the seed corpus in
# tests/data/images. New inputs go to build-fuzz/corpus; crashes are
# written to build-fuzz/ as crash-* files.
#
# usage: scripts/fuzz.sh [SECONDS]
set -eu

seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/build-fuzz"
mkdir -p "$out/corpus"

# The decoders and the common module they use, without the rest of the
# library (and so without oneDNN).
clang -std=c11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined \
    -I"$root/include" -I"$root/lib" $(pkg-config --cflags libpng libjpeg) \
    "$root"/lib/common/alloc.c "$root"/lib/common/atomic_file.c \
    "$root"/lib/common/log.c \
    "$root"/lib/common/status.c "$root"/lib/image/*.c \
    "$root/fuzz/fuzz_decode.c" \
    $(pkg-config --libs libpng libjpeg) -lpthread \
    -o "$out/fuzz_decode"

cd "$out"
# A small quarantine: the default lets freed pixel buffers pile up past
# the RSS limit.
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=32}"
"$out/fuzz_decode" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -max_len=65536 -timeout=10 -jobs=1 -workers=1 \
    "$out/corpus" "$root/tests/data/images"
