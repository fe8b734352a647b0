#!/usr/bin/env bash
# TLS end to end: builds hiredis 1.x WITH hiredis_ssl from source (the copy vendored in the
# `hiredis` sdist on PyPI, pinned by version and SHA-256, the same as Scripts/test-hiredis1.sh),
# makes a CA, server and client certificates with openssl in a private folder, starts two
# TLS-only redis-servers (one requiring client certificates), a plaintext one, and an openssl
# s_server that picks its certificate by SNI, then builds the package with the TLS
# trait against that hiredis (scratch path .build-tls) and runs the TLS suite and the ChatMemory
# store suite over rediss://. Stops what it started; exits non-zero on any failure.
#   Scripts/test-tls.sh [swift test args for the TLS suite]
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh
ensure_base_packages
ensure_packages "cc:gcc" "ar:binutils" "openssl:openssl" "/usr/include/openssl/ssl.h:libssl-dev"
python3 -m pip --version >/dev/null 2>&1 || ensure_packages "/usr/lib/python3/dist-packages/pip:python3-pip"

PREFIX=${HIREDIS_TLS_PREFIX:-$PWD/.build-tls-hiredis/prefix-$HIREDIS_VENDORED_VERSION}
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
ensure_hiredis_tls_prefix "$PREFIX" "$WORK" || { say "TLS was NOT checked"; exit 1; }
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
say "compiling against hiredis $(pkg-config --modversion hiredis) with hiredis_ssl"

# --- certificates (EC P-256: quick to make), in a private folder ------------------------------
CERTS="$WORK/certs"
mkdir -m 700 "$CERTS"
make_ca() { # name
    openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days 2 \
        -subj "/CN=RedisChatMemory test $1" -keyout "$CERTS/$1.key" -out "$CERTS/$1.pem" 2>/dev/null
}
make_leaf() { # name, extensions: a key and a certificate signed by ca
    local name=$1 extensions=$2
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$CERTS/$name.key" 2>/dev/null
    openssl req -new -key "$CERTS/$name.key" -subj "/CN=$name" -out "$CERTS/$name.csr" 2>/dev/null
    printf '%s\n' "$extensions" >"$CERTS/$name.ext"
    openssl x509 -req -in "$CERTS/$name.csr" -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca.key" -CAcreateserial \
        -days 2 -extfile "$CERTS/$name.ext" -out "$CERTS/$name.pem" 2>/dev/null
}
make_ca ca
make_ca other-ca
make_leaf server $'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth'
make_leaf client 'extendedKeyUsage=clientAuth'
KEY_PASS=$(openssl rand -hex 16)
printf '%s\n' "$KEY_PASS" >"$CERTS/client-encrypted.pass"
openssl pkey -in "$CERTS/client.key" -aes256 -passout "file:$CERTS/client-encrypted.pass" -out "$CERTS/client-encrypted.key" 2>/dev/null
unset KEY_PASS
# A self-signed certificate for the same names: what a server shows a client that sends no SNI.
openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days 2 -subj "/CN=decoy" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$CERTS/decoy.key" -out "$CERTS/decoy.pem" 2>/dev/null
chmod 600 "$CERTS"/*
# The CA again as a hashed folder (tls.caFolder).
mkdir -m 700 "$CERTS/ca-folder"
cp "$CERTS/ca.pem" "$CERTS/ca-folder/"
openssl rehash "$CERTS/ca-folder" >/dev/null
say "certificates made in $CERTS"

# --- servers: two TLS-only (the second requires client certificates) and one plaintext --------
# Starts a TLS-only redis-server on a free port and sets STARTED_PORT to it. Extra arguments go to
# redis-server. (Not run in $(...): the server would hold the substitution's output open.)
start_tls_redis() {
    local name=$1 port
    shift
    port=$(free_port)
    mkdir -m 700 "$WORK/$name"
    redis-server --port 0 --tls-port "$port" --bind 127.0.0.1 --dir "$WORK/$name" \
        --tls-cert-file "$CERTS/server.pem" --tls-key-file "$CERTS/server.key" --tls-ca-cert-file "$CERTS/ca.pem" \
        --save '' --appendonly no --daemonize no --logfile "$WORK/$name/redis.log" "$@" >/dev/null 2>&1 &
    TLS_PIDS+=($!)
    local tries=0
    until redis-cli --tls --cacert "$CERTS/ca.pem" --cert "$CERTS/client.pem" --key "$CERTS/client.key" \
            -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; do
        tries=$((tries + 1))
        if ((tries > 100)) || ! kill -0 "${TLS_PIDS[-1]}" 2>/dev/null; then
            say "the TLS redis-server $name did not start; its log:" >&2
            cat "$WORK/$name/redis.log" >&2 || true
            return 1
        fi
        sleep 0.1
    done
    STARTED_PORT=$port
}
start_tls_redis tls --tls-auth-clients no
TLS_PORT=$STARTED_PORT
start_tls_redis mtls --tls-auth-clients yes
MTLS_PORT=$STARTED_PORT
PLAIN_PORT=$(free_port)
mkdir -m 700 "$WORK/plain"
redis-server --port "$PLAIN_PORT" --bind 127.0.0.1 --dir "$WORK/plain" --save '' --appendonly no \
    --daemonize no --logfile "$WORK/plain/redis.log" >/dev/null 2>&1 &
TLS_PIDS+=($!)
tries=0
until redis-cli -p "$PLAIN_PORT" ping 2>/dev/null | grep -q PONG; do
    tries=$((tries + 1))
    ((tries > 100)) && { say "the plaintext redis-server did not start" >&2; exit 1; }
    sleep 0.1
done
# An openssl s_server that shows the CA's certificate only to clients sending SNI "localhost"
# (the decoy to others), so the tests can tell whether SNI was sent.
SNI_PORT=$(free_port)
openssl s_server -accept "127.0.0.1:$SNI_PORT" -cert "$CERTS/decoy.pem" -key "$CERTS/decoy.key" \
    -servername localhost -cert2 "$CERTS/server.pem" -key2 "$CERTS/server.key" -rev -quiet </dev/null >/dev/null 2>&1 &
TLS_PIDS+=($!)
tries=0
until python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$SNI_PORT" 2>/dev/null; do
    tries=$((tries + 1))
    ((tries > 100)) && { say "openssl s_server did not start" >&2; exit 1; }
    sleep 0.1
done
say "redis-server $(redis-server --version | sed -E 's/.*v=([^ ]+).*/\1/'): TLS on $TLS_PORT, mutual TLS on $MTLS_PORT, plaintext on $PLAIN_PORT"

# --- the TLS suite, then the store suite over rediss:// -----------------------------------------
say "building with the TLS trait (scratch path .build-tls)"
# No debug information, as in Scripts/test-hiredis1.sh.
swift build --build-tests --traits TLS --scratch-path .build-tls -debug-info-format none
export REDIS_TLS_TEST_DIR="$CERTS" REDIS_TLS_TEST_PORT="$TLS_PORT" REDIS_TLS_TEST_MTLS_PORT="$MTLS_PORT" \
    REDIS_TLS_TEST_PLAIN_PORT="$PLAIN_PORT" REDIS_TLS_TEST_SNI_PORT="$SNI_PORT"
say "TLS suite"
swift test --skip-build --traits TLS --scratch-path .build-tls -debug-info-format none --filter 'TLS' "$@"
say "ChatMemory store suite over rediss://127.0.0.1:$MTLS_PORT with a client certificate"
REDIS_URL="rediss://127.0.0.1:$MTLS_PORT" REDIS_TLS_CA_FILE="$CERTS/ca.pem" REDIS_TLS_SERVER_NAME=localhost \
    REDIS_TLS_CERT_FILE="$CERTS/client.pem" REDIS_TLS_KEY_FILE="$CERTS/client.key" \
    swift test --skip-build --traits TLS --scratch-path .build-tls -debug-info-format none --filter 'ChatMemoryTests\.(Store|RedisStore|LeastPrivilege)'
say "TLS checks passed"
