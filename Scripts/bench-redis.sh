#!/usr/bin/env bash
# The client against redis-benchmark, same server, same commands (LPUSH of 300-byte values and
# LRANGE 0 49), same concurrency, in one run. Concurrency 1 runs with client and server pinned to
# CPU 0 (one-connection latency swings with CPU placement); concurrency 50 runs unpinned. Each
# test runs in 5 rounds, redis-benchmark and the client in turn (a burst of other load on this
# shared machine falls on both alike), each side running 1,000 unmeasured requests before each
# round; each row shows both sides' median over the rounds of mean, p50 and p99 latency and
# ops/s, with requests (all rounds), warm-up and pinning.
#   Scripts/bench-redis.sh [requests]
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh
source Scripts/lib/redis-benchmark-rows.sh
ensure_base_packages
ensure_packages "taskset:util-linux"
REQUESTS=${1:-50000}
WARMUP=1000   # requests each side runs, unmeasured, before each round of each test
ROUNDS=5      # rounds per test, redis-benchmark and the client in turn
require_count requests "$REQUESTS" "$ROUNDS"

trap stop_redis EXIT
start_redis
swift build -c release --product RedisBenchmark >/dev/null
BIN="$(swift build -c release --show-bin-path)/RedisBenchmark"

results=$(mktemp)
say "concurrency 1 (client and server pinned to CPU 0)"
taskset -pc 0 "$REDIS_PID" >/dev/null
taskset -pc 0 $$ >/dev/null   # this shell and everything it starts
ticks=$(cpu_ticks)
interleaved_rows "$BIN" 1 cpu0 "$REQUESTS" "$WARMUP" "$ROUNDS" >>"$results"
steal1=$(steal_since "$ticks")
taskset -pc 0-$(($(nproc) - 1)) $$ >/dev/null
say "concurrency 50 (unpinned)"
taskset -pc 0-$(($(nproc) - 1)) "$REDIS_PID" >/dev/null
ticks=$(cpu_ticks)
interleaved_rows "$BIN" 50 none "$REQUESTS" "$WARMUP" "$ROUNDS" >>"$results"
steal50=$(steal_since "$ticks")

echo
echo "LPUSH of a 300-byte value and LRANGE 0 49, redis-benchmark $(redis-benchmark --version | awk '{print $2}') beside the client (latencies in µs)"
sort -t, -k1,1 -k2,2n -s "$results" | python3 Scripts/lib/benchmark-csv.py table --ref redis-benchmark --ours client --unit us --ratio latency
# redis-benchmark reports latencies to the µs; at one connection wall time / requests is exact on both sides
# (ops/s is the median round's).
awk -F, '$2 == 1 { rps[$1 "," $3] = $10 }
    END { for (test in rps) if (test ~ /,ref$/) { name = substr(test, 1, length(test) - 4)
          printf "%s at concurrency 1, wall time per request: redis-benchmark %.1f µs, client %.1f µs, ratio %.2f\n",
              name, 1e6 / rps[test], 1e6 / rps[name ",ours"], rps[test] / rps[name ",ours"] } }' "$results" | sort
echo
echo "targets: ops/s ratio >= 0.80 at concurrency 50; mean latency ratio <= 1.30 at concurrency 1"
echo "CPU time the host took from this machine (steal): $steal1 at concurrency 1, $steal50 at 50; a run where it is high is a noisy one"
rm -f "$results"
