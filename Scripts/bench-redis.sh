#!/usr/bin/env bash
# The client against redis-benchmark, same server, same commands (LPUSH of 300-byte values and
# LRANGE 0 49), same concurrency, in one run. Concurrency 1 runs with client and server pinned to
# CPU 0 (one-connection latency swings with CPU placement); concurrency 50 runs unpinned.
#   Scripts/bench-redis.sh [requests]
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh
ensure_base_packages
ensure_packages "taskset:util-linux"
REQUESTS=${1:-50000}

trap stop_redis EXIT
start_redis
swift build -c release --product RedisBenchmark >/dev/null
BIN="$(swift build -c release --show-bin-path)/RedisBenchmark"

VALUE=$(head -c 300 /dev/zero | tr '\0' x)

# redis-benchmark running the same two commands; prints test,concurrency,rps,p50_ms.
reference() {
    local concurrency=$1 name
    redis-cli -p "$REDIS_PORT" del bench:mylist >/dev/null
    for name in LPUSH LRANGE_50; do
        if [[ $name == LPUSH ]]; then set -- LPUSH bench:mylist "$VALUE"; else set -- LRANGE bench:mylist 0 49; fi
        redis-benchmark -p "$REDIS_PORT" -c "$concurrency" -n "$REQUESTS" --csv "$@" |
            python3 Scripts/lib/benchmark-csv.py | sed "s/^/$name,$concurrency,/"
    done
}

ours() {
    "$BIN" --url "$REDIS_URL" -c "$1" -n "$REQUESTS" -d 300 | awk -F, '{print $1","$2","$4","$5}'
}

results=$(mktemp)
say "concurrency 1 (client and server pinned to CPU 0)"
taskset -pc 0 "$REDIS_PID" >/dev/null
taskset -pc 0 $$ >/dev/null   # this shell and everything it starts
{ reference 1 | sed 's/^/ref,/'; ours 1 | sed 's/^/swift,/'; } >>"$results"
taskset -pc 0-$(($(nproc) - 1)) $$ >/dev/null
say "concurrency 50 (unpinned)"
taskset -pc 0-$(($(nproc) - 1)) "$REDIS_PID" >/dev/null
{ reference 50 | sed 's/^/ref,/'; ours 50 | sed 's/^/swift,/'; } >>"$results"

python3 - "$results" <<'PY'
import sys
rows = [line.strip().split(",") for line in open(sys.argv[1]) if line.strip()]
data = {(r[0], r[1], r[2]): (float(r[3]), float(r[4])) for r in rows}
print()
print(f"{'command':<10} {'conc':>4} {'redis-benchmark rps':>20} {'client rps':>12} {'rps ratio':>9} {'ref p50 ms':>10} {'client p50 ms':>13} {'p50 ratio':>9} {'mean latency ratio':>18}")
for test in ("LPUSH", "LRANGE_50"):
    for conc in ("1", "50"):
        ref, me = data.get(("ref", test, conc)), data.get(("swift", test, conc))
        if not ref or not me: continue
        # With one connection, mean latency is 1/rps on both sides.
        mean = f"{ref[0]/me[0]:>18.2f}" if conc == "1" else f"{'':>18}"
        print(f"{test:<10} {conc:>4} {ref[0]:>20.0f} {me[0]:>12.0f} {me[0]/ref[0]:>9.2f} {ref[1]:>10.3f} {me[1]:>13.3f} {me[1]/ref[1]:>9.2f} {mean}")
print("\ntargets: rps ratio >= 0.80 at concurrency 50; latency ratio <= 1.30 at concurrency 1")
print("(redis-benchmark rounds p50 coarsely at these latencies; the mean latency ratio is exact)")
PY
rm -f "$results"
