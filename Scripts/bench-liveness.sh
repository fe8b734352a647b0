#!/usr/bin/env bash
# Whether the client keeps sending while every cooperative thread is busy, and what a caller's
# round trip in place costs other tasks (Sources/LivenessProbe). Three runs of each, one private
# redis-server, unpinned.
#   Scripts/bench-liveness.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh
ensure_base_packages

trap stop_redis EXIT
start_redis
swift build -c release --product LivenessProbe >/dev/null
BIN="$(swift build -c release --show-bin-path)/LivenessProbe"

echo
echo "20 calls, pool of 1 connection x 1 request, each call a script busy 10 ms on the server;"
echo "every cooperative thread then busy for 2 s; command timeout 1 s:"
echo "calls,answered,timed out,other errors,server ms needed,starved ms"
for _ in 1 2 3; do REDIS_URL=$REDIS_URL "$BIN" 20; done
echo
echo "A ticker sleeping 1 ms at a time: how late it wakes (µs), idle, then beside one caller per"
echo "cooperative thread calling LPUSH in a loop (answered in place, 250 µs at most each):"
echo "ticker,load,ticks,p50 µs,p99 µs,max µs,calls"
for _ in 1 2 3; do REDIS_URL=$REDIS_URL "$BIN" 20 --ticker | grep '^ticker'; done
