#!/usr/bin/env bash
# Server time per call of the append script (INFO commandstats, cmdstat_evalsha usec_per_call,
# reset between rows), side by side in one run: the idempotency check off (idempotencyWindow 0,
# the reference) and at the default window, for sessions whose newest entries are ~300 bytes
# and 100 KB. Client and server are pinned to CPU 0; one connection, one call at a time.
#   Scripts/bench-append-script.sh [requests per row] [warm-up appends per row]
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh
ensure_base_packages
ensure_packages "taskset:util-linux"
REQUESTS=${1:-5000}
WARMUP=${2:-500}

trap stop_redis EXIT
start_redis
swift build -c release --product ChatMemoryBenchmark >/dev/null
BIN="$(swift build -c release --show-bin-path)/ChatMemoryBenchmark"
export REDIS_URL

say "append script cost: $REQUESTS calls per row after $WARMUP warm-up appends (script $("$BIN" reference-args | head -1))"
taskset -pc 0 "$REDIS_PID" >/dev/null
taskset -c 0 "$BIN" script-cost -n "$REQUESTS" -w "$WARMUP"
echo
echo "target: the default window costs <= 1.5x the server time of window 0, for both entry sizes"
