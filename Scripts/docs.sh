#!/usr/bin/env bash
# Builds the DocC documentation of the three library modules (ChatMemory, ChatMemoryRedis,
# ChatTokenizer) with swift-docc-plugin, and fails on any DocC warning (a broken ``symbol`` link,
# an undocumented parameter, a malformed article...). Part of Scripts/test.sh.
#
# SwiftPM 6.x builds the symbol graphs for a plugin with every package trait on, TLS included, so
# the module needs hiredis_ssl's headers even though the public API is the same without the
# trait: without a system hiredis_ssl (Debian 12's hiredis 0.14 has none), the hiredis 1.x build
# of Scripts/test-tls.sh is used (built here when it is missing), with its own scratch path.
#
#   Scripts/docs.sh                 # archives in .build-docs/archives/<Module>.doccarchive
#   DOCS_OUTPUT=/tmp/docs Scripts/docs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh
ensure_base_packages

OUTPUT=${DOCS_OUTPUT:-$PWD/.build-docs/archives}
if ! pkg-config --exists hiredis_ssl; then
    ensure_packages "cc:gcc" "ar:binutils" "/usr/include/openssl/ssl.h:libssl-dev"
    python3 -m pip --version >/dev/null 2>&1 || ensure_packages "/usr/lib/python3/dist-packages/pip:python3-pip"
    prefix=${HIREDIS_TLS_PREFIX:-$PWD/.build-tls-hiredis/prefix-$HIREDIS_VENDORED_VERSION}
    work=$(mktemp -d "${TMPDIR:-/tmp}/rcm-docs.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    ensure_hiredis_tls_prefix "$prefix" "$work" || { say "the documentation was NOT checked"; exit 1; }
    export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
fi

say "building the documentation of ChatMemory, ChatMemoryRedis and ChatTokenizer (warnings are errors)"
rm -rf "$OUTPUT"
mkdir -p "$OUTPUT"
swift package --scratch-path .build-docs --allow-writing-to-directory "$OUTPUT" \
    generate-documentation --target ChatMemory --target ChatMemoryRedis --target ChatTokenizer \
    --output-path "$OUTPUT" --warnings-as-errors
say "documentation archives in $OUTPUT"
