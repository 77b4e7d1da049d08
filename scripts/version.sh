#!/bin/sh
# Print the version written in include/simclr/version.h, for the build.
header="$(dirname "$0")/../include/simclr/version.h"
part() {
    sed -n "s/^#define SIMCLR_VERSION_$1 \([0-9][0-9]*\)$/\1/p" "$header"
}
printf '%s.%s.%s\n' "$(part MAJOR)" "$(part MINOR)" "$(part PATCH)"
