#!/bin/sh
# Regenerate the ABI baseline from a build (compatible additions, or a
# deliberate break announced with an "api:" line in CHANGELOG.md).
#
#   scripts/abi-update.sh BUILD_DIR
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
lib=$(ls "$1"/lib/libsimclr.so.*.*.* | head -n 1)
mkdir -p "$top/abi"
abidw --no-corpus-path --headers-dir "$top/include/simclr" \
      --out-file "$top/abi/libsimclr.abi" "$lib"
echo "abi: wrote abi/libsimclr.abi from $lib"
