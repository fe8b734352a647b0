#!/usr/bin/env bash
# RedisChatMemory beside LlamaIndex (ChatMemoryBuffer over RedisChatStore), same redis-server,
# same ~300-byte message, in one run:
# - sequential appends: `session.append` in a loop from one task vs `ChatMemoryBuffer.put()` in
#   a loop, client and server pinned to CPU 0;
# - 50-way concurrent appends, unpinned: 50 tasks on one session vs 50 asyncio tasks awaiting
#   `aput()` (redis-py's asyncio client) on one session;
# - 3,000-token window reads from sessions of 10, 1,000 and 10,000 messages, pinned to CPU 0:
#   .llamaIndex and .modelSafe vs `ChatMemoryBuffer.get()` (token_limit 3000), each side reading
#   sessions it wrote itself in its own format; a LlamaIndex read over 60 s is skipped.
# Each row shows both sides' mean, p50 and p99 latency, ops/s, requests, warm-up and pinning;
# the append rows also say what each side sends per append (a short run under MONITOR) and the
# server time per append (INFO commandstats around the measured run). The Python side
# runs in .build-llamaindex-venv with pinned versions from PyPI (Scripts/lib/llamaindex-bench.py).
#   Scripts/bench-llamaindex.sh [appends]     (default 20000 per append row, after 1000 warm-up)
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh
ensure_base_packages
ensure_packages "taskset:util-linux"
APPENDS=${1:-20000}
WARMUP=1000
started=$SECONDS

trap 'stop_redis; rm -rf "$work"' EXIT
work=$(mktemp -d)
start_redis
export REDIS_URL
say "building ChatMemoryBenchmark (release)"
swift build -c release --product ChatMemoryBenchmark >/dev/null
BIN="$(swift build -c release --show-bin-path)/ChatMemoryBenchmark"
say "preparing the LlamaIndex virtualenv (.build-llamaindex-venv)"
llama() { python3 Scripts/lib/llamaindex-bench.py "$@"; }
versions=$(llama versions)

ALL_CPUS=0-$(($(nproc) - 1))
pin() { taskset -pc "$1" "$REDIS_PID" >/dev/null; taskset -pc "$1" $$ >/dev/null; }

# What one side sends per append at CONCURRENCY: a short run of PROBE appends under MONITOR,
# before and apart from the measured run.
PROBE=1000
commands_per_append() {
    local side=$1 concurrency=$2 monitor
    redis-cli -p "$REDIS_PORT" monitor >"$work/monitor" &
    monitor=$!
    for _ in {1..100}; do [[ -s $work/monitor ]] && break; sleep 0.05; done   # OK once MONITOR is on
    if [[ $side == ours ]]; then "$BIN" append -c "$concurrency" -n "$PROBE" -w 0 >/dev/null
    else llama append -c "$concurrency" -n "$PROBE" -w 0 >/dev/null; fi
    kill "$monitor"; wait "$monitor" 2>/dev/null || true
    python3 Scripts/lib/benchmark-csv.py commands "$work/monitor" "$PROBE"
}

# Appends: SIDE CONCURRENCY PINNING; adds a table row to $work/appends.
appends() {
    local side=$1 concurrency=$2 pinning=$3 line n w figures how sends server
    sends=$(commands_per_append "$side" "$concurrency")
    redis-cli -p "$REDIS_PORT" info commandstats >"$work/before"
    if [[ $side == ours ]]; then
        line=$("$BIN" append -c "$concurrency" -n "$APPENDS" -w "$WARMUP")
        how="$concurrency task(s) on one session"
    else
        line=$(llama append -c "$concurrency" -n "$APPENDS" -w "$WARMUP")
        how=$(cut -d, -f9- <<<"$line")
    fi
    redis-cli -p "$REDIS_PORT" info commandstats >"$work/after"
    IFS=, read -r _ _ n w figures <<<"$(cut -d, -f1-8 <<<"$line")"
    server=$(python3 Scripts/lib/benchmark-csv.py server-time "$work/before" "$work/after" $((n + w)))
    echo "append,$concurrency,$side,$n,$w,$pinning,$figures,$how; $sends; $server" >>"$work/appends"
}

say "sequential appends (client and server pinned to CPU 0)"
pin 0
appends ours 1 cpu0
appends ref 1 cpu0
say "50-way concurrent appends (unpinned)"
pin "$ALL_CPUS"
appends ours 50 none
appends ref 50 none

say "window reads (client and server pinned to CPU 0)"
pin 0
# window,policy,N,messages_in_window,R,W,mean,p50,p99,ops[,note] -> a table row for TEST and SIDE.
window_row() {
    awk -F, -v OFS=, -v test="$1" -v side="$2" '{
        note = ($4 == "" ? "" : "in window: " $4) ($11 == "" ? "" : ($4 == "" ? "" : ", ") $11)
        print test, 1, side, $5, $6, "cpu0", $7, $8, $9, $10, note
    }' <<<"$3"
}
for size in 10 1000 10000; do
    swift_llama=$("$BIN" window -n "$size" -s 1 -p llama)
    swift_safe=$("$BIN" window -n "$size" -s 1)
    say "  LlamaIndex get() from $size messages"
    python_line=$(llama window -n "$size" -r 200 -w 1 --limit 60 --budget 10)
    for policy in llamaIndex modelSafe; do
        if [[ $policy == llamaIndex ]]; then line=$swift_llama; else line=$swift_safe; fi
        window_row "$size msgs .$policy" ours "$line" >>"$work/windows"
        window_row "$size msgs .$policy" ref "$python_line" >>"$work/windows"
    done
done
pin "$ALL_CPUS"

echo
echo "LlamaIndex side: $versions"
echo "Swift side: $(swift --version 2>/dev/null | head -1); redis-server $(redis-server --version | sed -E 's/.*v=([^ ]+).*/\1/')"
echo
echo "Appends of one ~300-byte user message (ratio: Swift's speed-up over LlamaIndex; latencies in µs)"
python3 Scripts/lib/benchmark-csv.py table --ref LlamaIndex --ours Swift --unit us --ratio speedup <"$work/appends"
echo
echo "3,000-token window reads (ratio: Swift's speed-up over LlamaIndex get(); latencies in ms)"
python3 Scripts/lib/benchmark-csv.py table --ref LlamaIndex --ours Swift --unit ms --ratio speedup <"$work/windows"
echo
echo "target: Swift sequential appends >= 1.5x LlamaIndex's rate (the speed-up of the concurrency-1 append row)"
say "done in $((SECONDS - started)) s"
