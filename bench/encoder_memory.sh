#!/bin/sh
# Peak memory of each bench_encoder workload, each side alone in its own
# process: libsimclr, and PyTorch in NCHW and channels_last. Each run does
# two warm-up steps and one timed step under GNU time (/usr/bin/time, the
# Debian package `time`), and its "Maximum resident set size" is printed.
#
#   bench/encoder_memory.sh [BUILD_DIR] [THREADS]
#
# BUILD_DIR defaults to build, THREADS to 2.
set -eu

build=${1:-build}
threads=${2:-2}
bench="$build/bench/bench_encoder"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if [ ! -x "$bench" ]; then
    echo "encoder_memory.sh: no $bench; build first" >&2
    exit 1
fi

printf '%-8s %-24s %14s %10s\n' workload side "max RSS (kB)" "MiB"
for work in train encode; do
    for side in ours nchw channels_last; do
        if [ "$side" = ours ]; then
            set -- --side ours
            name=libsimclr
        else
            set -- --side torch --layout "$side"
            name="PyTorch $side"
        fi
        /usr/bin/time -v -o "$log" "$bench" --only "$work" \
            --threads "$threads" --steps 1 --blocks 1 "$@" >/dev/null
        kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
        awk -v w="$work" -v n="$name" -v kb="$kb" 'BEGIN {
            printf "%-8s %-24s %14d %10.0f\n", w, n, kb, kb / 1024 }'
    done
done
