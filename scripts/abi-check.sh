#!/bin/sh
# Compare the ABI of a fresh build with the committed baseline.
#
#   scripts/abi-check.sh BUILD_DIR
#
# Fails when the library differs from abi/libsimclr.abi: an incompatible
# change, or a compatible one (new functions) whose baseline was not
# regenerated with scripts/abi-update.sh. Also checks that the commit that
# last regenerated the baseline, if it broke compatibility, said so in an
# "api:" line of CHANGELOG.md, and that from 1.0 on such a break came with
# a new major version.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$1
baseline="$top/abi/libsimclr.abi"
lib=$(ls "$build"/lib/libsimclr.so.*.*.* | head -n 1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Only simclr_ symbols may leave the library.
stray=$(nm -D --defined-only "$lib" | awk '{print $3}' |
        grep -v '^simclr_' | grep -v '^SIMCLR_0$' || true)
if [ -n "$stray" ]; then
    echo "abi: symbols outside the simclr_ namespace are exported:"
    echo "$stray"
    exit 1
fi

abidw --no-corpus-path --headers-dir "$top/include/simclr" \
      --out-file "$work/current.abi" "$lib"
status=0
abidiff --no-added-syms "$baseline" "$work/current.abi" \
    > "$work/diff.txt" || status=$?
if [ $((status & 8)) -ne 0 ]; then
    cat "$work/diff.txt"
    echo "abi: INCOMPATIBLE change against abi/libsimclr.abi."
    echo "abi: if it is deliberate, run scripts/abi-update.sh and add an"
    echo "abi: 'api:' line to CHANGELOG.md in the same commit."
    exit 1
fi
status=0
abidiff "$baseline" "$work/current.abi" > "$work/diff.txt" || status=$?
if [ "$status" -ne 0 ]; then
    cat "$work/diff.txt"
    echo "abi: the library gained interfaces; run scripts/abi-update.sh"
    echo "abi: and commit abi/libsimclr.abi with the change."
    exit 1
fi

# The last deliberate baseline change must have been announced.
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    commit=$(git -C "$top" log -1 --format=%H -- abi/libsimclr.abi)
    if [ -n "$commit" ] &&
       git -C "$top" cat-file -e "$commit^:abi/libsimclr.abi" 2>/dev/null; then
        git -C "$top" show "$commit^:abi/libsimclr.abi" > "$work/previous.abi"
        status=0
        abidiff "$work/previous.abi" "$baseline" >/dev/null || status=$?
        if [ $((status & 8)) -ne 0 ]; then
            if ! git -C "$top" show "$commit" -- CHANGELOG.md |
                 grep -q '^+.*api:'; then
                echo "abi: commit $commit broke the ABI without an 'api:'"
                echo "abi: line in CHANGELOG.md"
                exit 1
            fi
            major=$(sed -n 's/^#define SIMCLR_VERSION_MAJOR \([0-9]*\)$/\1/p' \
                    "$top/include/simclr/version.h")
            if [ "$major" -ge 1 ] &&
               ! git -C "$top" show "$commit" -- include/simclr/version.h |
                 grep -q '^+#define SIMCLR_VERSION_MAJOR'; then
                echo "abi: commit $commit broke the ABI of a 1.x release"
                echo "abi: without a new major version"
                exit 1
            fi
        fi
    fi
fi
echo "abi: libsimclr matches abi/libsimclr.abi; only simclr_ symbols exported"
