# Shared helpers for the scripts in Scripts/: installing what is missing and running a private
# redis-server on a free loopback port in its own folder. Source it; don't run it.

# When the first script of a run started (epoch seconds); the scripts it starts inherit it.
export RCM_RUN_STARTED=${RCM_RUN_STARTED:-$(date +%s)}

# Prints a line prefixed with the script's name and the minutes and seconds since the first
# script of the run started (so a log shows what each stage of the test command took).
say() {
    local elapsed=$(($(date +%s) - RCM_RUN_STARTED))
    printf '[%s %d:%02d] %s\n' "$(basename "$0")" $((elapsed / 60)) $((elapsed % 60)) "$*"
}

# Ends the script unless VALUE is a whole number of at least MINIMUM: require_count NAME VALUE MINIMUM
require_count() {
    if ! [[ $2 =~ ^[0-9]+$ ]] || (( 10#$2 < $3 )); then
        say "$1 must be a whole number from $3 (got '$2')" >&2
        exit 64
    fi
}

# Installs the Debian packages that provide the given commands/files, when they are missing and
# we are root with apt. Usage: ensure_packages "cmd:package" ...
ensure_packages() {
    local missing=() pair check package
    for pair in "$@"; do
        check=${pair%%:*}; package=${pair#*:}
        if [[ $check == /* ]]; then [[ -e $check ]] && continue
        else command -v "$check" >/dev/null 2>&1 && continue; fi
        missing+=("$package")
    done
    ((${#missing[@]} == 0)) && return 0
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        say "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        say "missing packages: ${missing[*]} (install them, e.g. apt-get install ${missing[*]} or brew install hiredis redis)"
        return 1
    fi
}

# The tools every script needs: hiredis headers, redis-server, redis-cli, redis-benchmark, pkg-config.
ensure_base_packages() {
    ensure_packages \
        "pkg-config:pkg-config" \
        "/usr/include/hiredis/hiredis.h:libhiredis-dev" \
        "redis-server:redis-server" \
        "redis-cli:redis-tools" \
        "python3:python3"
}

# Runs a command up to N times, sleeping DELAY seconds between tries; returns its last status.
# Usage: retry N DELAY command [args...]
retry() {
    local tries=$1 delay=$2 attempt status
    shift 2
    for ((attempt = 1; ; attempt++)); do
        "$@" && return 0
        status=$?
        ((attempt >= tries)) && return "$status"
        say "attempt $attempt of $tries failed (status $status); retrying in ${delay}s"
        sleep "$delay"
    done
}

# CPU time the hypervisor gave to other guests ("steal"), for benchmarks to say how much of a run
# this machine did not get: `ticks=$(cpu_ticks)` before, `steal_since "$ticks"` after prints the
# stolen share of all CPU time in between, in percent ("n/a" without /proc/stat, as on macOS).
cpu_ticks() {
    if [[ -r /proc/stat ]]; then awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print t, $9; exit }' /proc/stat; fi
}
steal_since() {
    local now
    now=$(cpu_ticks)
    if [[ -z $1 || -z $now ]]; then echo "n/a"; return; fi
    awk -v start="$1" -v now="$now" 'BEGIN { split(start, a, " "); split(now, b, " ")
        total = b[1] - a[1]; printf "%.1f%%", (total > 0 ? 100 * (b[2] - a[2]) / total : 0) }'
}

# Prints the SHA-256 of a file as lowercase hex (sha256sum, or shasum on macOS).
sha256_file() {
    if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | awk '{print $1}'
    else shasum -a 256 "$1" | awk '{print $1}'; fi
}

# Prints a free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Starts a private redis-server: sets REDIS_PORT, REDIS_DIR, REDIS_URL and REDIS_PID.
# Extra arguments go to redis-server (e.g. --appendonly yes). Persistence is off unless asked.
start_redis() {
    REDIS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rcm-redis.XXXXXX")
    REDIS_PORT=$(free_port)
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" \
        --save '' --appendonly no --daemonize no --logfile "$REDIS_DIR/redis.log" \
        --unixsocket "$REDIS_DIR/redis.sock" --unixsocketperm 700 \
        --enable-debug-command yes "$@" &
    REDIS_PID=$!
    REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
    local tries=0
    until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do
        tries=$((tries + 1))
        if ((tries > 100)) || ! kill -0 "$REDIS_PID" 2>/dev/null; then
            say "redis-server did not start; its log:"; cat "$REDIS_DIR/redis.log" >&2 || true
            return 1
        fi
        sleep 0.1
    done
    REDIS_SOCKET="$REDIS_DIR/redis.sock"
    export REDIS_PORT REDIS_DIR REDIS_URL REDIS_PID REDIS_SOCKET
    say "redis-server $(redis-server --version | sed -E 's/.*v=([^ ]+).*/\1/') on 127.0.0.1:$REDIS_PORT (dir $REDIS_DIR)"
}

# The folder of the scripts (Scripts/), wherever this file is sourced from.
_SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Starts a private Redis Cluster (Scripts/redis-cluster.sh: 3 primaries, 3 replicas) in a new
# folder and exports REDIS_CLUSTER_URL, REDIS_CLUSTER_PORTS, REDIS_CLUSTER_PASSWORD and
# REDIS_CLUSTER_DIR. Extra arguments go to its start (e.g. --password PW).
start_cluster() {
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/rcm-cluster.XXXXXX")
    if ! "$_SCRIPTS_DIR/redis-cluster.sh" start "$dir" "$@" >/dev/null; then
        "$_SCRIPTS_DIR/redis-cluster.sh" stop "$dir"
        return 1
    fi
    source "$dir/env"
}

# Stops the cluster started by start_cluster and removes its folder.
stop_cluster() {
    if [[ -n ${REDIS_CLUSTER_DIR:-} ]]; then "$_SCRIPTS_DIR/redis-cluster.sh" stop "$REDIS_CLUSTER_DIR"; fi
    REDIS_CLUSTER_DIR=
}

# Starts a private Sentinel setup (Scripts/redis-sentinel.sh: a primary, 2 replicas, 3 sentinels)
# in a new folder and exports REDIS_SENTINEL_URL, REDIS_SENTINEL_PORTS, REDIS_SENTINEL_DATA_PORTS,
# REDIS_SENTINEL_MASTER_NAME, REDIS_SENTINEL_PASSWORD, REDIS_SENTINEL_DATA_PASSWORD and
# REDIS_SENTINEL_DIR. Extra arguments go to its start (e.g. --master-name NAME --password PW).
start_sentinel() {
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/rcm-sentinel.XXXXXX")
    if ! "$_SCRIPTS_DIR/redis-sentinel.sh" start "$dir" "$@" >/dev/null; then
        "$_SCRIPTS_DIR/redis-sentinel.sh" stop "$dir"
        return 1
    fi
    source "$dir/env"
}

# Stops the setup started by start_sentinel and removes its folder.
stop_sentinel() {
    if [[ -n ${REDIS_SENTINEL_DIR:-} ]]; then "$_SCRIPTS_DIR/redis-sentinel.sh" stop "$REDIS_SENTINEL_DIR"; fi
    REDIS_SENTINEL_DIR=
}

# Stops the server started by start_redis and removes its folder.
stop_redis() {
    if [[ -n ${REDIS_PID:-} ]] && kill -0 "$REDIS_PID" 2>/dev/null; then
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    fi
    [[ -n ${REDIS_DIR:-} && -d $REDIS_DIR ]] && rm -rf "$REDIS_DIR"
    REDIS_PID=
}

# Builds Examples/ChatServer in release mode, or in the configuration given (`build_chat_server
# debug`), in the build folder Examples/ChatServer/.build and prints the chat-server executable's
# path. Progress goes to stderr: a line at every quarter of the steps.
build_chat_server() {
    _build_example Examples/ChatServer chat-server "${1:-release}"
}

# Builds Examples/VaporChat (the Vapor 4 example) like build_chat_server, in
# Examples/VaporChat/.build, and prints the vapor-chat executable's path.
build_vapor_chat() {
    _build_example Examples/VaporChat vapor-chat "${1:-release}"
}

# Builds the executable PRODUCT of the example package PACKAGE in CONFIGURATION and prints its
# path; on failure, prints the end of the build's log to stderr and returns 1. A debug build
# carries no debug information (the scenarios test behaviour, nobody steps through it): C
# dependencies such as BoringSSL compile about a fifth faster without it.
_build_example() {
    local package=$1 product=$2 configuration=$3 log status flags=()
    [[ $configuration == debug ]] && flags=(-debug-info-format none)
    log=$(mktemp "${TMPDIR:-/tmp}/$product-build.XXXXXX")
    swift build -c "$configuration" "${flags[@]}" --package-path "$package" --product "$product" 2>&1 | tee "$log" | _build_progress >&2
    status=${PIPESTATUS[0]}
    if [[ $status != 0 ]]; then
        say "building $package failed; the end of its log:" >&2
        tail -40 "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
    printf '%s/%s\n' "$(swift build -c "$configuration" --package-path "$package" --show-bin-path)" "$product"
}

# Reads `swift build` output and prints one short line at each quarter of the build's steps.
_build_progress() {
    awk '/^\[[0-9]+\/[0-9]+\]/ {
            split(substr($1, 2), step, "/"); done = step[1] + 0; total = step[2] + 0
            if (total < 40) next
            quarter = int(4 * done / total)
            if (quarter > shown) { shown = quarter; printf "   %3d%% (%d/%d steps) %s %s\n", 25 * quarter, done, total, $2, $3; fflush() }
         }
         /^Build (of product .*)?complete/ { print "   " $0; fflush() }'
}

# Starts redis-server again on the REDIS_PORT and REDIS_DIR of start_redis (after it was killed),
# so it reloads what it persisted there. Pass the same extra arguments as to start_redis.
# Updates REDIS_PID.
restart_redis() {
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" \
        --save '' --appendonly no --daemonize no --logfile "$REDIS_DIR/redis.log" \
        --unixsocket "$REDIS_DIR/redis.sock" --unixsocketperm 700 \
        --enable-debug-command yes "$@" &
    REDIS_PID=$!
    export REDIS_PID
    local tries=0
    until redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; do
        tries=$((tries + 1))
        if ((tries > 150)) || ! kill -0 "$REDIS_PID" 2>/dev/null; then
            say "redis-server did not restart; its log:"; tail -20 "$REDIS_DIR/redis.log" >&2 || true
            return 1
        fi
        sleep 0.1
    done
}

# Builds the chat-memory CLI of the root package through Examples/ChatServer (so it shares that
# release build and never takes the root package's .build lock) and prints its path.
build_chat_memory_cli() {
    local package=Examples/ChatServer
    swift build -c release --package-path "$package" --product chat-memory >/dev/null 2>&1 || return 1
    printf '%s/chat-memory\n' "$(swift build -c release --package-path "$package" --show-bin-path)"
}

# The hiredis 1.x source the compatibility and TLS checks build: the copy vendored in the
# `hiredis` sdist on PyPI (hiredis-py 3.5.0 vendors hiredis 1.5.0, ssl.c included). To move on,
# change all three, with the hash PyPI lists.
HIREDIS_SDIST_VERSION=3.5.0
HIREDIS_SDIST_SHA256=c227592cc56b7df247abe4755c26723965be68972be2149fa441ac33d82131ba
HIREDIS_VENDORED_VERSION=1.5.0

# Downloads the pinned hiredis sdist into WORK, checks its SHA-256 and the vendored version,
# unpacks it, and prints the vendored hiredis source folder. Fails (status 1, saying why) when
# the download, the hash or the version is not right: a check is never skipped silently.
# Usage: source_dir=$(fetch_hiredis_source WORK)
fetch_hiredis_source() {
    local work=$1 sdist actual source_dir found
    say "fetching hiredis $HIREDIS_SDIST_VERSION (sdist) from PyPI for its vendored hiredis $HIREDIS_VENDORED_VERSION" >&2
    if ! retry 3 5 python3 -m pip download --quiet --no-deps --no-binary :all: "hiredis==$HIREDIS_SDIST_VERSION" -d "$work" >&2; then
        say "ERROR: could not download the hiredis $HIREDIS_SDIST_VERSION sdist from PyPI" >&2
        return 1
    fi
    sdist="$work/hiredis-$HIREDIS_SDIST_VERSION.tar.gz"
    [[ -f $sdist ]] || { say "ERROR: pip did not save $sdist" >&2; return 1; }
    actual=$(sha256_file "$sdist")
    if [[ $actual != "$HIREDIS_SDIST_SHA256" ]]; then
        say "ERROR: SHA-256 of $(basename "$sdist") is $actual, expected $HIREDIS_SDIST_SHA256" >&2
        return 1
    fi
    say "SHA-256 checked: $actual" >&2
    tar -xzf "$sdist" -C "$work"
    source_dir="$work/hiredis-$HIREDIS_SDIST_VERSION/vendor/hiredis"
    found=$(grep -E 'define HIREDIS_(MAJOR|MINOR|PATCH)' "$source_dir/hiredis.h" | awk '{print $3}' | paste -sd.)
    if [[ $found != "$HIREDIS_VENDORED_VERSION" ]]; then
        say "ERROR: the sdist vendors hiredis $found, expected $HIREDIS_VENDORED_VERSION" >&2
        return 1
    fi
    printf '%s\n' "$source_dir"
}

# Builds hiredis $HIREDIS_VENDORED_VERSION with hiredis_ssl (static archives, headers, hiredis.pc
# and hiredis_ssl.pc) into PREFIX from the pinned sdist, unless PREFIX has it already; WORK is a
# scratch folder. Point PKG_CONFIG_PATH at PREFIX/lib/pkgconfig to build against it.
# Usage: ensure_hiredis_tls_prefix PREFIX WORK
ensure_hiredis_tls_prefix() {
    local prefix=$1 work=$2 source_dir found=$HIREDIS_VENDORED_VERSION
    [[ -f $prefix/lib/pkgconfig/hiredis_ssl.pc ]] && return 0
    source_dir=$(fetch_hiredis_source "$work") || return 1
    [[ -f $source_dir/ssl.c ]] || { say "ERROR: the sdist's hiredis $found has no ssl.c"; return 1; }
    say "building hiredis $found with hiredis_ssl"
    rm -rf "$prefix"
    mkdir -p "$prefix/lib/pkgconfig" "$prefix/include/hiredis"
    (cd "$source_dir" && cc -std=c99 -O2 -fPIC -c alloc.c async.c hiredis.c net.c read.c sds.c sockcompat.c ssl.c &&
        ar rcs "$prefix/lib/libhiredis.a" alloc.o async.o hiredis.o net.o read.o sds.o sockcompat.o &&
        ar rcs "$prefix/lib/libhiredis_ssl.a" ssl.o) || return 1
    cp "$source_dir"/{hiredis,read,sds,alloc,async,hiredis_ssl}.h "$prefix/include/hiredis/" || return 1
    cat >"$prefix/lib/pkgconfig/hiredis.pc" <<PC
prefix=$prefix
Name: hiredis
Description: hiredis $found built for the TLS check
Version: $found
Libs: -L\${prefix}/lib -lhiredis
Cflags: -I\${prefix}/include
PC
    # Static archives: hiredis_ssl before what it uses.
    cat >"$prefix/lib/pkgconfig/hiredis_ssl.pc" <<PC
prefix=$prefix
Name: hiredis_ssl
Description: hiredis_ssl $found built for the TLS check
Version: $found
Libs: -L\${prefix}/lib -lhiredis_ssl -lhiredis -lssl -lcrypto
Cflags: -I\${prefix}/include
PC
}
