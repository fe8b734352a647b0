#!/usr/bin/env bash
# Chat memory figures, side by side in one run:
# - appends per second at concurrency 1 and 50, beside redis-benchmark running the same append
#   script (EVALSHA, same arguments) at the same concurrency against the same server;
# - 3,000-token window reads from sessions of 10, 100, 1,000 and 10,000 messages.
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
redis-cli -p "$REDIS_PORT" del bench:reference >/dev/null

say "window reads"
windows=()
for size in 10 100 1000 10000; do windows+=("$("$BIN" window -n "$size")"); done

python3 - "$ref1" "$ours1" "$ref50" "$ours50" "${windows[@]}" <<'PY'
import sys
ref1, ours1, ref50, ours50 = sys.argv[1:5]
print()
print(f"{'appends':<8} {'conc':>4} {'redis-benchmark rps':>20} {'client rps':>11} {'ratio':>6}")
for conc, ref, ours in (("1", ref1, ours1), ("50", ref50, ours50)):
    ref_rps = float(ref.split(",")[0]); our_rps = float(ours.split(",")[3])
    print(f"{'append':<8} {conc:>4} {ref_rps:>20.0f} {our_rps:>11.0f} {our_rps/ref_rps:>6.2f}")
print()
print(f"{'session size':>12} {'window msgs':>11} {'median ms':>10} {'vs 10 msgs':>10}")
rows = [w.split(",") for w in sys.argv[5:]]
base = float(rows[0][3])
for row in rows:
    print(f"{row[1]:>12} {row[2]:>11} {float(row[3]):>10.3f} {float(row[3])/base:>10.2f}")
print("\ntargets: append ratio >= 0.80 at concurrency 50; 10,000-message window <= 1.5x the 10-message one")
PY
