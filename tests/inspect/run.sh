#!/bin/sh
# simclr-inspect: its lines, exit codes and --png output, the latter
# compared with Pillow's decode of the same file.
#
# usage: run.sh SIMCLR_INSPECT DATA_DIR PYTHON3
set -eu

inspect=$1
data=$2
python=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "inspect test: $*" >&2
    exit 1
}

# One line per file, the size after EXIF orientation.
"$inspect" "$data/jpeg/testorig.jpg" "$data/generated/exif_6.jpg" \
    "$data/pngsuite/basn0g16.png" > "$tmp/out" || fail "good files failed"
cat > "$tmp/want" <<END
$data/jpeg/testorig.jpg: JPEG 227x149 3
$data/generated/exif_6.jpg: JPEG 24x40 3
$data/pngsuite/basn0g16.png: PNG 32x32 1
END
cmp "$tmp/out" "$tmp/want" || fail "unexpected output: $(cat "$tmp/out")"

# A bad file: its error line, exit status 1, the other files still listed.
status=0
"$inspect" "$data/pngsuite/xd0n2c08.png" "$data/jpeg/testorig.jpg" \
    > "$tmp/out" || status=$?
[ "$status" -eq 1 ] || fail "exit status $status for a bad file, not 1"
bad="$data/pngsuite/xd0n2c08.png"
grep -q "^$bad: error: .*PNG: IHDR: invalid bit depth 0$" "$tmp/out" ||
    fail "no error line: $(cat "$tmp/out")"
grep -q "testorig.jpg: JPEG 227x149 3$" "$tmp/out" || fail "good file lost"

# Usage errors exit 2; --help exits 0.
status=0
"$inspect" > /dev/null 2>&1 || status=$?
[ "$status" -eq 2 ] || fail "exit status $status without files, not 2"
status=0
"$inspect" --bogus "$data/jpeg/testorig.jpg" > /dev/null 2>&1 || status=$?
[ "$status" -eq 2 ] || fail "exit status $status for a bad option, not 2"
"$inspect" --help | grep -q "usage:" || fail "--help prints no usage"
# Each usage error says what was wrong.
check_usage() {
    want=$1
    shift
    status=0
    "$inspect" "$@" > /dev/null 2> "$tmp/err" || status=$?
    [ "$status" -eq 2 ] || fail "exit status $status for '$*', not 2"
    grep -q -- "$want" "$tmp/err" || fail "no '$want' for '$*'"
}
check_usage "--png needs a value" --png
check_usage "--max-side needs a value" --max-side
check_usage "bad --max-side" --max-side "" "$data/jpeg/testorig.jpg"
check_usage "exactly one FILE" --png "$tmp/x.png" "$data/jpeg/testorig.jpg" \
    "$data/jpeg/testorig.jpg"
check_usage "no input files" --gray
rm -f "$tmp/err"

# --png writes what was decoded: Pillow must see the same pixels.
for f in jpeg/testimgp.jpg generated/exif_8.jpg pngsuite/basn6a08.png; do
    "$inspect" --png "$tmp/out.png" "$data/$f" > /dev/null ||
        fail "--png failed for $f"
    "$python" - "$data/$f" "$tmp/out.png" <<'END' || fail "--png pixels of $f"
import sys
from PIL import Image, ImageOps
src = ImageOps.exif_transpose(Image.open(sys.argv[1]))
if src.mode == 'RGBA':
    white = Image.new('RGBA', src.size, (255, 255, 255, 255))
    src = Image.alpha_composite(white, src)
src = src.convert('RGB')
out = Image.open(sys.argv[2]).convert('RGB')
if src.size != out.size:
    sys.exit('size %s, Pillow %s' % (out.size, src.size))
diff = max(abs(a - b) for p, q in zip(src.getdata(), out.getdata())
           for a, b in zip(p, q))
# alpha_composite rounds as the library does, to within one level
if diff > 1:
    sys.exit('pixels differ by up to %d' % diff)
END
done
ls "$tmp" | grep -q tmp && fail "temporary files left behind"
echo "inspect test: ok"
