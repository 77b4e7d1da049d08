#!/bin/sh
# Install the built library into a scratch prefix, then build and run a
# program against the installed files only, once dynamically and once
# statically, with the compiler flags pkg-config gives.
set -eu
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

meson install -C "$build_dir" --no-rebuild --destdir "$work/root" >/dev/null
pcfile=$(find "$work/root" -name simclr.pc | head -n 1)
[ -n "$pcfile" ] || { echo "simclr.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pcfile")
export PKG_CONFIG_SYSROOT_DIR="$work/root"
cc=${CC:-cc}

libdir=$(dirname "$(dirname "$pcfile")")
$cc -o "$work/consumer" "$source_dir/consumer.c" \
    $(pkg-config --cflags --libs simclr)
LD_LIBRARY_PATH="$libdir" "$work/consumer"
# The program must really have taken the installed shared library.
LD_LIBRARY_PATH="$libdir" ldd "$work/consumer" |
    grep -q "$work/root.*libsimclr.so.0"

# Static: the archive itself, then everything it needs (Libs.private).
$cc -o "$work/consumer-static" "$source_dir/consumer.c" \
    $(pkg-config --cflags simclr) "$libdir/libsimclr.a" \
    $(pkg-config --libs --static simclr | sed 's/-lsimclr\b//')
if ldd "$work/consumer-static" | grep -q libsimclr; then
    echo "static consumer still links libsimclr.so"
    exit 1
fi
"$work/consumer-static"
echo "consumer: shared and static builds ran"

# The README's example must build and run exactly as printed there.
readme="$source_dir/../../README.md"
awk '/^```c$/ { on = 1; next } /^```$/ { if (on) exit } on' "$readme" \
    > "$work/readme_example.c"
[ -s "$work/readme_example.c" ] || { echo "no C example in README.md"; exit 1; }
$cc -Wall -Wextra -Werror -o "$work/readme_example" "$work/readme_example.c" \
    $(pkg-config --cflags --libs simclr)
LD_LIBRARY_PATH="$libdir" "$work/readme_example"
echo "consumer: the README example ran"
