#!/usr/bin/env bash
# Builds hiredis 1.x from source (the copy vendored in the `hiredis` sdist on PyPI, pinned by
# version and SHA-256), then builds the client against it and runs the client suite, so the
# CHiredis shim is proven on both the system's hiredis (0.14 on Debian 12) and 1.x (Ubuntu 24.04,
# Homebrew). Fails when the sdist cannot be fetched (after retries) or its hash differs.
#   Scripts/test-hiredis1.sh [swift test args]
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh
ensure_base_packages
ensure_packages "cc:gcc" "ar:binutils"
python3 -m pip --version >/dev/null 2>&1 || ensure_packages "/usr/lib/python3/dist-packages/pip:python3-pip"

# The pinned source (version and SHA-256) is in Scripts/lib/common.sh.
PREFIX=${HIREDIS1_PREFIX:-$PWD/.build-hiredis1/prefix-$HIREDIS_VENDORED_VERSION}
if [[ ! -f $PREFIX/lib/pkgconfig/hiredis.pc ]]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    source_dir=$(fetch_hiredis_source "$work") || { say "hiredis 1.x was NOT checked"; exit 1; }
    found=$HIREDIS_VENDORED_VERSION
    say "building hiredis $found"
    mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include/hiredis"
    (cd "$source_dir" && cc -std=c99 -O2 -fPIC -c alloc.c async.c hiredis.c net.c read.c sds.c sockcompat.c &&
        ar rcs "$PREFIX/lib/libhiredis.a" alloc.o async.o hiredis.o net.o read.o sds.o sockcompat.o)
    cp "$source_dir"/{hiredis,read,sds,alloc,async}.h "$PREFIX/include/hiredis/"
    cat >"$PREFIX/lib/pkgconfig/hiredis.pc" <<PC
prefix=$PREFIX
Name: hiredis
Description: hiredis $found built for the compatibility check
Version: $found
Libs: -L\${prefix}/lib -lhiredis
Cflags: -I\${prefix}/include
PC
    rm -rf "$work"
    trap - EXIT
fi
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
say "compiling against hiredis $(pkg-config --modversion hiredis)"

trap stop_redis EXIT
start_redis
# No debug information: this build is run once, never debugged (the main build keeps it).
swift build --build-tests --scratch-path .build-hiredis1 -debug-info-format none
swift test --skip-build --scratch-path .build-hiredis1 -debug-info-format none --filter ChatMemoryRedisTests "$@"
