#!/bin/sh
# simclr-augment: exit codes, and a grid whose size follows from the flags
# (one row per image: the original and its two views, each SIZE wide),
# decoded by Pillow, not by the library that wrote it.
#
# usage: run.sh SIMCLR_AUGMENT PICTURE PYTHON3 DATASET
set -eu

augment=$1
picture=$2
python=$3
dataset=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "augment tool test: $*" >&2
    exit 1
}

"$augment" --help > "$tmp/help" || fail "--help failed"
grep -q -- '--preset' "$tmp/help" || fail "--help does not list --preset"

status=0
"$augment" --count x "$picture" 2> "$tmp/err" || status=$?
[ "$status" -eq 2 ] || fail "exit status $status for a bad flag, not 2"
[ -s "$tmp/err" ] || fail "no message for a bad flag"
for flag in --count --size; do
    status=0
    "$augment" $flag 0 "$picture" 2> "$tmp/err" || status=$?
    [ "$status" -eq 2 ] || fail "exit status $status for $flag 0, not 2"
    grep -q -- "$flag" "$tmp/err" || fail "no message for $flag 0"
done

status=0
"$augment" --out "$tmp/late.png" "$picture" --seed 3 2> "$tmp/err" || status=$?
[ "$status" -eq 2 ] || fail "exit status $status for an option after the images"
grep -q -- "--seed" "$tmp/err" || fail "no message naming the late option"

status=0
"$augment" --out "$tmp/none.png" "$tmp/missing.png" 2> "$tmp/err" || status=$?
[ "$status" -eq 1 ] || fail "exit status $status for a missing file, not 1"
grep -q "missing.png" "$tmp/err" || fail "error does not name the file"
[ ! -e "$tmp/none.png" ] || fail "an output was written after an error"

"$augment" --preset cifar --size 32 --count 3 --seed 5 \
    --out "$tmp/grid.png" "$picture" || fail "grid run failed"
"$python" - "$tmp/grid.png" <<'PY' || fail "grid PNG is not what was asked"
import sys
from PIL import Image
im = Image.open(sys.argv[1])
im.load()
w, h = im.size
# 3 rows of 3 tiles of 32 pixels, with at most a few pixels of margin.
assert 96 <= w <= 96 + 16 and 96 <= h <= 96 + 16, im.size
PY
# From a dataset: --count rows (its items reused in turn), 32-pixel tiles.
"$augment" --preset cifar --count 5 --out "$tmp/data.png" --data "$dataset" \
    || fail "grid from a dataset failed"
"$python" - "$tmp/data.png" <<'PY' || fail "dataset grid is not what was asked"
import sys
from PIL import Image
im = Image.open(sys.argv[1])
w, h = im.size
assert 96 <= w <= 96 + 16 and 160 <= h <= 160 + 24, im.size
PY
status=0
"$augment" --data "$dataset" "$picture" 2> "$tmp/err" || status=$?
[ "$status" -eq 2 ] || fail "exit status $status for files and --data, not 2"
status=0
"$augment" --data "$tmp/missing" --out "$tmp/none.png" 2> "$tmp/err" || status=$?
[ "$status" -eq 1 ] || fail "exit status $status for a missing dataset, not 1"
grep -q "missing" "$tmp/err" || fail "error does not name the dataset"

echo "augment tool: exit codes and grid checked"
