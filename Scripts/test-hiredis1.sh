#!/usr/bin/env bash
# Builds hiredis 1.x from source (the copy vendored in the `hiredis` sdist on PyPI), then builds
# the client against it and runs the client suite, so the CHiredis shim is proven on both the
# system's hiredis (0.14 on Debian 12) and 1.x (Ubuntu 24.04, Homebrew).
#   Scripts/test-hiredis1.sh [swift test args]
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh
ensure_base_packages
ensure_packages "cc:gcc" "ar:binutils"
python3 -m pip --version >/dev/null 2>&1 || ensure_packages "/usr/lib/python3/dist-packages/pip:python3-pip"

PREFIX=${HIREDIS1_PREFIX:-$PWD/.build-hiredis1/prefix}
if [[ ! -f $PREFIX/lib/pkgconfig/hiredis.pc ]]; then
    work=$(mktemp -d)
    say "fetching the hiredis sdist from PyPI for its vendored hiredis 1.x"
    for attempt in 1 2 3; do
        python3 -m pip download --quiet --no-deps --no-binary :all: hiredis -d "$work" >/dev/null 2>&1 && break
        if ((attempt == 3)); then
            # Only the network failed, not the code: say so loudly instead of failing the run.
            say "WARNING: PyPI unreachable; the hiredis 1.x build was NOT checked this time"
            exit 0
        fi
        sleep 5
    done
    tar -xzf "$work"/hiredis-*.tar.gz -C "$work"
    source_dir=$(echo "$work"/hiredis-*/vendor/hiredis)
    say "building hiredis $(grep -E 'define HIREDIS_(MAJOR|MINOR|PATCH)' "$source_dir/hiredis.h" | awk '{print $3}' | paste -sd.)"
    mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include/hiredis"
    (cd "$source_dir" && cc -std=c99 -O2 -fPIC -c alloc.c async.c hiredis.c net.c read.c sds.c sockcompat.c &&
        ar rcs "$PREFIX/lib/libhiredis.a" alloc.o async.o hiredis.o net.o read.o sds.o sockcompat.o)
    cp "$source_dir"/{hiredis,read,sds,alloc,async}.h "$PREFIX/include/hiredis/"
    cat >"$PREFIX/lib/pkgconfig/hiredis.pc" <<PC
prefix=$PREFIX
Name: hiredis
Description: hiredis 1.x built for the compatibility check
Version: $(grep -E 'define HIREDIS_(MAJOR|MINOR|PATCH)' "$source_dir/hiredis.h" | awk '{print $3}' | paste -sd.)
Libs: -L\${prefix}/lib -lhiredis
Cflags: -I\${prefix}/include
PC
    rm -rf "$work"
fi
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
say "compiling against hiredis $(pkg-config --modversion hiredis)"

trap stop_redis EXIT
start_redis
swift build --build-tests --scratch-path .build-hiredis1
swift test --skip-build --no-parallel --scratch-path .build-hiredis1 --filter RedisTests "$@"
