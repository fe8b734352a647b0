#!/usr/bin/env bash
# The test command: installs what is missing, starts a private redis-server, builds, runs the whole
# suite against it; runs the example server's multi-worker and fault scenario; runs the client
# suite again built against hiredis 1.x; runs the TLS suite and the store suite over TLS-only
# servers (the TLS trait, hiredis 1.x with hiredis_ssl); builds the DocC documentation, failing on
# any DocC warning; runs the whole suite under the thread sanitizer; and always stops its servers.
#
#   Scripts/test.sh                 # everything
#   SKIP_TSAN=1 Scripts/test.sh     # skip the thread-sanitizer pass (local iterations)
#   SKIP_HIREDIS1=1 Scripts/test.sh # skip the client build against hiredis 1.x (fetched from PyPI)
#   SKIP_TLS=1 Scripts/test.sh      # skip the TLS build and suite
#   SKIP_DOCS=1 Scripts/test.sh     # skip the documentation build (Scripts/docs.sh)
#   Scripts/test.sh --filter Redis  # extra arguments go to `swift test`
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh

ensure_base_packages
command -v swift >/dev/null || { say "swift is not on PATH"; exit 1; }

trap stop_redis EXIT
start_redis

say "building"
swift build --build-tests
export CHAT_MEMORY_BIN="$(swift build --show-bin-path)/chat-memory"

say "running the tests against $REDIS_URL"
swift test --skip-build "$@"

say "running the example's scaling scenario (Examples/ChatServer, several worker processes)"
Scripts/test-examples.sh

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
    # The CLI tests keep running the regular chat-memory binary: the sanitizer watches this process.
    swift test --skip-build --sanitize=thread --scratch-path .build-tsan "$@"
fi
