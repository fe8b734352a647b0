#!/usr/bin/env bash
# Chat memory figures, side by side in one run:
# - appends at concurrency 1 (client and server pinned to CPU 0) and 50, beside redis-benchmark
#   running the same append script (EVALSHA, same arguments) at the same concurrency against the
#   same server: both sides' mean, p50 and p99 latency, ops/s, requests, warm-up and pinning;
# - 3,000-token window reads from sessions of 10, 100, 1,000 and 10,000 messages, under both
#   policies (.modelSafe for all sizes, .llamaIndex for 10 and 10,000);
# - a 288-message, ~69k-token session read whole under .llamaIndex, beside counting its joined
#   text once with the same tokenizer;
# - the server time of one 10,000-message append (~300 bytes each) and of its retry, beside a
#   plain LPUSH of the same entries.
#   Scripts/bench-chat-memory.sh [appends]
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh
ensure_base_packages
ensure_packages "taskset:util-linux"
REQUESTS=${1:-20000}
WARMUP=1000   # appends each side runs, unmeasured, before each measured run

trap stop_redis EXIT
start_redis
swift build -c release --product ChatMemoryBenchmark >/dev/null
BIN="$(swift build -c release --show-bin-path)/ChatMemoryBenchmark"
export REDIS_URL

mapfile -t ARGS < <("$BIN" reference-args)
SCRIPT_SOURCE_SHA=${ARGS[0]}
# Load the script once (the client loads it on first use too).
"$BIN" append -c 1 -n 10 -w 0 >/dev/null

# A table row (Scripts/lib/benchmark-csv.py table) for redis-benchmark at CONCURRENCY, after a
# separate unmeasured run of WARMUP requests.
reference() {
    local csv rps mean p50 p95 p99
    redis-benchmark -p "$REDIS_PORT" -c "$1" -n "$WARMUP" -r 1000000000 --csv EVALSHA "${ARGS[@]}" >/dev/null
    # Parsed once it ended: a parser starting beside it would take CPU from the measured run.
    csv=$(redis-benchmark -p "$REDIS_PORT" -c "$1" -n "$REQUESTS" -r 1000000000 --csv EVALSHA "${ARGS[@]}")
    IFS=, read -r rps mean p50 p95 p99 < <(python3 Scripts/lib/benchmark-csv.py <<<"$csv")
    echo "append,$1,ref,$REQUESTS,$WARMUP,$2,$mean,$p50,$p99,$rps,p95 $p95 ms"
}
# The same row for the client (append,C,N,W,mean_ms,p50_ms,p99_ms,ops_per_s).
ours() {
    local csv
    csv=$("$BIN" append -c "$1" -n "$REQUESTS" -w "$WARMUP")
    awk -F, -v OFS=, -v pinning="$2" '{ print $1, $2, "ours", $3, $4, pinning, $5, $6, $7, $8, "" }' <<<"$csv"
}

say "appends (script $SCRIPT_SOURCE_SHA)"
taskset -pc 0 $$ >/dev/null; taskset -pc 0 "$REDIS_PID" >/dev/null
appends=$(reference 1 cpu0; ours 1 cpu0)
taskset -pc 0-$(($(nproc) - 1)) $$ >/dev/null; taskset -pc 0-$(($(nproc) - 1)) "$REDIS_PID" >/dev/null
appends+=$'\n'$(reference 50 none; ours 50 none)
redis-cli -p "$REDIS_PORT" del "${ARGS[2]}" "${ARGS[3]}" >/dev/null

say "window reads"
windows=()
for size in 10 100 1000 10000; do windows+=("$("$BIN" window -n "$size")"); done
for size in 10 10000; do windows+=("$("$BIN" window -n "$size" -p llama)"); done
say "a long .llamaIndex read; a 10,000-message batch"
long=$("$BIN" long-llama)
batch=$("$BIN" batch -n 10000)

echo
echo "appends of one ~300-byte message: redis-benchmark running the same EVALSHA beside the client (latencies in µs)"
python3 Scripts/lib/benchmark-csv.py table --ref redis-benchmark --ours client --unit us --ratio latency <<<"$appends"
# redis-benchmark reports latencies to the µs; at one connection wall time / requests is exact on both sides.
awk -F, '$2 == 1 { rps[$3] = $10 } END { printf "at concurrency 1, wall time per append: redis-benchmark %.1f µs, client %.1f µs, ratio %.2f\n",
    1e6 / rps["ref"], 1e6 / rps["ours"], rps["ref"] / rps["ours"] }' <<<"$appends"
python3 - "$long" "$batch" "${windows[@]}" <<'PY'
import sys
long, batch = sys.argv[1:3]
print()
print("3,000-token window reads (each after its unmeasured warm-up reads, one task, unpinned)")
print(f"{'policy':>10} {'session size':>12} {'window msgs':>11} {'reads':>6} {'warm-up':>7} {'mean ms':>8} {'p50 ms':>8} {'p99 ms':>8} {'reads/s':>8} {'p50 vs 10 msgs':>14}")
base = {}
for row in (w.split(",") for w in sys.argv[3:]):
    # window,policy,N,messages_in_window,R,W,mean_ms,p50_ms,p99_ms,ops_per_s
    policy, size, msgs, reads, warmup = row[1:6]
    mean, p50, p99, rate = map(float, row[6:10])
    base.setdefault(policy, p50)
    print(f"{policy:>10} {size:>12} {msgs:>11} {reads:>6} {warmup:>7} {mean:>8.3f} {p50:>8.3f} {p99:>8.3f} {rate:>8.0f} {p50/base[policy]:>14.2f}")
_, n, tokens, read_ms, count_ms = long.split(",")
print()
print(f".llamaIndex read of {n} messages / {tokens} tokens (whole session): {float(read_ms):.2f} ms median;"
      f" counting its joined text once: {float(count_ms):.2f} ms; ratio {float(read_ms)/float(count_ms):.2f}")
_, n, append_us, retry_us, lpush_us = batch.split(",")
print(f"{n}-message append (~300 B each), server time: {int(append_us)/1000:.1f} ms; its retry {int(retry_us)/1000:.1f} ms;"
      f" a plain LPUSH of the same entries {int(lpush_us)/1000:.1f} ms (ratio {int(append_us)/int(lpush_us):.2f})")
print("\ntargets: append ops/s ratio >= 0.80 at concurrency 50; 10,000-message window <= 1.5x the 10-message one (.modelSafe, p50);"
      " the long .llamaIndex read <= 5 ms; the 10,000-message append < 50 ms of server time")
PY
