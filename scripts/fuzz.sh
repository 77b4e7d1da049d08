#!/bin/sh
# Build one of the libFuzzer harnesses with clang and run it for SECONDS
# (default 60) on one core, starting from its seed corpus:
#
#   decode       the image decoders, seeds in tests/data/images
#   safetensors  the safetensors reader, seeds in tests/data/safetensors
#
# New inputs go to build-fuzz/corpus (decode) or
# build-fuzz/corpus-safetensors; crashes are written to
# build-fuzz/ as crash-* files.
#
# usage: scripts/fuzz.sh [HARNESS] [SECONDS]
#        scripts/fuzz.sh SECONDS          (the image decoders)
set -eu

harness=decode
case "${1:-}" in
decode | safetensors)
    harness=$1
    shift
    ;;
esac
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/build-fuzz"
mkdir -p "$out"
common="$root/lib/common/alloc.c $root/lib/common/atomic_file.c
        $root/lib/common/log.c $root/lib/common/status.c"
flags="-std=c11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -I$root/include -I$root/lib"

case $harness in
decode)
    # The decoders and the common module they use, without the rest of
    # the library (and so without oneDNN).
    # shellcheck disable=SC2086
    clang $flags $(pkg-config --cflags libpng libjpeg) \
        $common "$root"/lib/image/*.c "$root/fuzz/fuzz_decode.c" \
        $(pkg-config --libs libpng libjpeg) -lpthread \
        -o "$out/fuzz_decode"
    seeds="$root/tests/data/images"
    max_len=65536
    extra=
    ;;
safetensors)
    # shellcheck disable=SC2086
    clang $flags $(pkg-config --cflags json-c) \
        $common "$root/lib/io/safetensors.c" \
        "$root/fuzz/fuzz_safetensors.c" \
        $(pkg-config --libs json-c) -lpthread \
        -o "$out/fuzz_safetensors"
    seeds="$root/tests/data/safetensors"
    max_len=16384
    extra="-dict=$root/fuzz/safetensors.dict"
    ;;
esac

if [ "$harness" = decode ]; then
    corpus="$out/corpus"
else
    corpus="$out/corpus-$harness"
fi
mkdir -p "$corpus"
cd "$out"
# A small quarantine: the default lets freed buffers pile up past the RSS
# limit.
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=32}"
"$out/fuzz_$harness" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -max_len="$max_len" -timeout=10 -jobs=1 -workers=1 $extra \
    "$corpus" "$seeds"
