#!/usr/bin/env bash
# TLS end to end: builds hiredis 1.x WITH hiredis_ssl from source (the copy vendored in the
# `hiredis` sdist on PyPI, pinned by version and SHA-256, the same as Scripts/test-hiredis1.sh),
# makes a CA, server and client certificates with openssl in a private folder, starts two
# TLS-only redis-servers (one requiring client certificates), then builds the package with the TLS
# trait against that hiredis (scratch path .build-tls) and runs the TLS suite and the ChatMemory
# store suite over rediss://. Stops what it started; exits non-zero on any failure.
#   Scripts/test-tls.sh [swift test args for the TLS suite]
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh
ensure_base_packages
ensure_packages "cc:gcc" "ar:binutils" "openssl:openssl" "/usr/include/openssl/ssl.h:libssl-dev"
python3 -m pip --version >/dev/null 2>&1 || ensure_packages "/usr/lib/python3/dist-packages/pip:python3-pip"

# hiredis-py 3.5.0 vendors hiredis 1.5.0, ssl.c included. To move on: change all three, with the
# hash PyPI lists.
SDIST_VERSION=3.5.0
SDIST_SHA256=c227592cc56b7df247abe4755c26723965be68972be2149fa441ac33d82131ba
HIREDIS_VERSION=1.5.0

PREFIX=${HIREDIS_TLS_PREFIX:-$PWD/.build-tls-hiredis/prefix-$HIREDIS_VERSION}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rcm-tls.XXXXXX")
chmod 700 "$WORK"
TLS_PIDS=()
cleanup() {
    local pid
    for pid in "${TLS_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- hiredis 1.x with hiredis_ssl -------------------------------------------------------------
if [[ ! -f $PREFIX/lib/pkgconfig/hiredis_ssl.pc ]]; then
    say "fetching hiredis $SDIST_VERSION (sdist) from PyPI for its vendored hiredis $HIREDIS_VERSION"
    if ! retry 3 5 python3 -m pip download --quiet --no-deps --no-binary :all: "hiredis==$SDIST_VERSION" -d "$WORK"; then
        say "ERROR: could not download the hiredis $SDIST_VERSION sdist from PyPI; TLS was NOT checked"
        exit 1
    fi
    sdist="$WORK/hiredis-$SDIST_VERSION.tar.gz"
    [[ -f $sdist ]] || { say "ERROR: pip did not save $sdist"; exit 1; }
    actual=$(sha256_file "$sdist")
    if [[ $actual != "$SDIST_SHA256" ]]; then
        say "ERROR: SHA-256 of $(basename "$sdist") is $actual, expected $SDIST_SHA256"
        exit 1
    fi
    say "SHA-256 checked: $actual"
    tar -xzf "$sdist" -C "$WORK"
    source_dir="$WORK/hiredis-$SDIST_VERSION/vendor/hiredis"
    found=$(grep -E 'define HIREDIS_(MAJOR|MINOR|PATCH)' "$source_dir/hiredis.h" | awk '{print $3}' | paste -sd.)
    if [[ $found != "$HIREDIS_VERSION" || ! -f $source_dir/ssl.c ]]; then
        say "ERROR: the sdist vendors hiredis $found (ssl.c: $([[ -f $source_dir/ssl.c ]] && echo yes || echo no)), expected $HIREDIS_VERSION with ssl.c"
        exit 1
    fi
    say "building hiredis $found with hiredis_ssl"
    rm -rf "$PREFIX"
    mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include/hiredis"
    (cd "$source_dir" && cc -std=c99 -O2 -fPIC -c alloc.c async.c hiredis.c net.c read.c sds.c sockcompat.c ssl.c &&
        ar rcs "$PREFIX/lib/libhiredis.a" alloc.o async.o hiredis.o net.o read.o sds.o sockcompat.o &&
        ar rcs "$PREFIX/lib/libhiredis_ssl.a" ssl.o)
    cp "$source_dir"/{hiredis,read,sds,alloc,async,hiredis_ssl}.h "$PREFIX/include/hiredis/"
    cat >"$PREFIX/lib/pkgconfig/hiredis.pc" <<PC
prefix=$PREFIX
Name: hiredis
Description: hiredis $found built for the TLS check
Version: $found
Libs: -L\${prefix}/lib -lhiredis
Cflags: -I\${prefix}/include
PC
    # Static archives: hiredis_ssl before what it uses.
    cat >"$PREFIX/lib/pkgconfig/hiredis_ssl.pc" <<PC
prefix=$PREFIX
Name: hiredis_ssl
Description: hiredis_ssl $found built for the TLS check
Version: $found
Libs: -L\${prefix}/lib -lhiredis_ssl -lhiredis -lssl -lcrypto
Cflags: -I\${prefix}/include
PC
fi
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
say "compiling against hiredis $(pkg-config --modversion hiredis) with hiredis_ssl"
