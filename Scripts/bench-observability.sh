#!/usr/bin/env bash
# What the observability traits cost when no metrics or tracing backend is bootstrapped: the
# RedisBenchmark client (LPUSH of 300-byte values, LRANGE 0 49) built with the default traits
# (ServiceLifecycleSupport, MetricsSupport, DistributedTracingSupport) against the same client
# built with --disable-default-traits, alternating, several rounds, same server. Concurrency 1
# runs pinned to CPU 0 with the server; concurrency 50 unpinned. Prints each round's throughput
# ratio (traits / no traits) and the median: 1.00 is no cost.
#   Scripts/bench-observability.sh [requests] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh
ensure_base_packages
ensure_packages "taskset:util-linux"
REQUESTS=${1:-20000}
ROUNDS=${2:-5}

trap stop_redis EXIT
start_redis
say "building RedisBenchmark (release) with the default traits, and without (.build-notraits)"
swift build -c release --product RedisBenchmark >/dev/null
with_traits="$(swift build -c release --show-bin-path)/RedisBenchmark"
swift build -c release --disable-default-traits --scratch-path .build-notraits --product RedisBenchmark >/dev/null
without_traits="$(swift build -c release --disable-default-traits --scratch-path .build-notraits --show-bin-path)/RedisBenchmark"

results=$(mktemp)
run() {   # variant binary concurrency round
    "$2" --url "$REDIS_URL" -c "$3" -n "$REQUESTS" -d 300 | sed "s/^/$1,$4,/" >>"$results"
}
for round in $(seq 1 "$ROUNDS"); do
    say "round $round of $ROUNDS"
    taskset -pc 0 "$REDIS_PID" >/dev/null
    taskset -pc 0 $$ >/dev/null
    # Alternate which variant goes first, so drift in the machine's load hits both alike.
    if ((round % 2)); then run traits "$with_traits" 1 "$round"; run none "$without_traits" 1 "$round"
    else run none "$without_traits" 1 "$round"; run traits "$with_traits" 1 "$round"; fi
    taskset -pc 0-$(($(nproc) - 1)) $$ >/dev/null
    taskset -pc 0-$(($(nproc) - 1)) "$REDIS_PID" >/dev/null
    if ((round % 2)); then run traits "$with_traits" 50 "$round"; run none "$without_traits" 50 "$round"
    else run none "$without_traits" 50 "$round"; run traits "$with_traits" 50 "$round"; fi
done

python3 - "$results" <<'PY'
import statistics, sys
rows = [line.strip().split(",") for line in open(sys.argv[1]) if line.strip()]
# variant,round,test,concurrency,requests,rps,p50_ms,p99_ms
rps = {(r[0], r[1], r[2], r[3]): float(r[5]) for r in rows}
rounds = sorted({r[1] for r in rows}, key=int)
print()
print(f"{'command':<10} {'conc':>4} {'traits rps':>11} {'no-traits rps':>14} {'median ratio':>12}   per-round ratios")
for test in ("LPUSH", "LRANGE_50"):
    for conc in ("1", "50"):
        ratios = [rps[("traits", n, test, conc)] / rps[("none", n, test, conc)] for n in rounds]
        with_median = statistics.median(rps[("traits", n, test, conc)] for n in rounds)
        none_median = statistics.median(rps[("none", n, test, conc)] for n in rounds)
        print(f"{test:<10} {conc:>4} {with_median:>11.0f} {none_median:>14.0f} {statistics.median(ratios):>12.3f}   "
              + " ".join(f"{r:.3f}" for r in ratios))
print("\nratio = throughput with the default traits (no backend bootstrapped) / built with --disable-default-traits")
PY
rm -f "$results"
