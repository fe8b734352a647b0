#!/usr/bin/env bash
# Chat memory figures, side by side in one run:
# - appends per second at concurrency 1 and 50, beside redis-benchmark running the same append
#   script (EVALSHA, same arguments) at the same concurrency against the same server;
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

trap stop_redis EXIT
start_redis
swift build -c release --product ChatMemoryBenchmark >/dev/null
BIN="$(swift build -c release --show-bin-path)/ChatMemoryBenchmark"
export REDIS_URL

mapfile -t ARGS < <("$BIN" reference-args)
SCRIPT_SOURCE_SHA=${ARGS[0]}
# Load the script once (the client loads it on first use too).
"$BIN" append -c 1 -n 10 >/dev/null

reference() {
    redis-benchmark -p "$REDIS_PORT" -c "$1" -n "$REQUESTS" -r 1000000000 --csv EVALSHA "${ARGS[@]}" |
        python3 Scripts/lib/benchmark-csv.py
}

say "appends (script $SCRIPT_SOURCE_SHA)"
taskset -pc 0 $$ >/dev/null; taskset -pc 0 "$REDIS_PID" >/dev/null
ref1=$(reference 1); ours1=$("$BIN" append -c 1 -n "$REQUESTS")
taskset -pc 0-$(($(nproc) - 1)) $$ >/dev/null; taskset -pc 0-$(($(nproc) - 1)) "$REDIS_PID" >/dev/null
ref50=$(reference 50); ours50=$("$BIN" append -c 50 -n "$REQUESTS")
redis-cli -p "$REDIS_PORT" del "${ARGS[2]}" "${ARGS[3]}" >/dev/null

say "window reads"
windows=()
for size in 10 100 1000 10000; do windows+=("$("$BIN" window -n "$size")"); done
for size in 10 10000; do windows+=("$("$BIN" window -n "$size" -p llama)"); done
say "a long .llamaIndex read; a 10,000-message batch"
long=$("$BIN" long-llama)
batch=$("$BIN" batch -n 10000)

python3 - "$ref1" "$ours1" "$ref50" "$ours50" "$long" "$batch" "${windows[@]}" <<'PY'
import sys
ref1, ours1, ref50, ours50, long, batch = sys.argv[1:7]
print()
print(f"{'appends':<8} {'conc':>4} {'redis-benchmark rps':>20} {'client rps':>11} {'ratio':>6}")
for conc, ref, ours in (("1", ref1, ours1), ("50", ref50, ours50)):
    ref_rps = float(ref.split(",")[0]); our_rps = float(ours.split(",")[3])
    print(f"{'append':<8} {conc:>4} {ref_rps:>20.0f} {our_rps:>11.0f} {our_rps/ref_rps:>6.2f}")
print()
print(f"{'policy':>10} {'session size':>12} {'window msgs':>11} {'median ms':>10} {'vs 10 msgs':>10}")
rows = [w.split(",") for w in sys.argv[7:]]
base = {}
for row in rows:
    policy, size, msgs, ms = row[1], row[2], row[3], float(row[4])
    base.setdefault(policy, ms)
    print(f"{policy:>10} {size:>12} {msgs:>11} {ms:>10.3f} {ms/base[policy]:>10.2f}")
_, n, tokens, read_ms, count_ms = long.split(",")
print()
print(f".llamaIndex read of {n} messages / {tokens} tokens (whole session): {float(read_ms):.2f} ms median;"
      f" counting its joined text once: {float(count_ms):.2f} ms; ratio {float(read_ms)/float(count_ms):.2f}")
_, n, append_us, retry_us, lpush_us = batch.split(",")
print(f"{n}-message append (~300 B each), server time: {int(append_us)/1000:.1f} ms; its retry {int(retry_us)/1000:.1f} ms;"
      f" a plain LPUSH of the same entries {int(lpush_us)/1000:.1f} ms (ratio {int(append_us)/int(lpush_us):.2f})")
print("\ntargets: append ratio >= 0.80 at concurrency 50; 10,000-message window <= 1.5x the 10-message one (.modelSafe);"
      " the long .llamaIndex read <= 5 ms; the 10,000-message append < 50 ms of server time")
PY
