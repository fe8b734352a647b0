#!/usr/bin/env bash
# What one chat message costs, each figure beside references measured in the same run on the
# same private redis-server (issue 21):
# 1. Server time per single-message append (~300 bytes of text; default configuration, cap
#    10,000, one-day time to live) and per retry of it (all duplicates), beside LlamaIndex's put
#    (RPUSH + EXPIRE) and a bare Lua script doing LPUSH + LTRIM + PEXPIRE, both with the entry our
#    append stored (the script as usually written, its LTRIM bounds Lua numbers, and again with
#    them as strings: Redis 7.0 formats a number argument with snprintf, 13% of that script's
#    time): INFO commandstats after CONFIG RESETSTAT, one connection, client and server
#    pinned to CPU 0 (ChatMemoryBenchmark append-cost). Each reference call follows the client
#    work an append does before its call (a message built, its tokens counted), as our appends
#    do; the bare script is also measured back to back (nothing between calls: less server time).
# 2. Redis memory per message (MEMORY USAGE of the list over its length) for the same chat turns
#    (Scripts/lib/entry-bytes.py texts: deterministic, ~238 bytes of text on average) written by
#    this library, by LlamaIndex's RedisChatStore and in LangChain's RedisChatMessageHistory
#    format (langchain-core 1.x's messages, and 0.3's, which add "example": false), Python in the
#    pinned .build-llamaindex-venv of Scripts/lib/llamaindex-bench.py.
# 3. LRANGE 0 49 of 300-byte values read into bytes beside redis-benchmark, at one connection
#    with client and server pinned to CPU 0 and at 50 concurrent tasks unpinned (RedisBenchmark,
#    as Scripts/bench-redis.sh runs it; LPUSH fills the list first), in 5 rounds taken in turn,
#    each side's figures the median of its rounds.
#    redis-benchmark's latency runs from its write until the reply is there to read (reading,
#    parsing and freeing it and its event loop's epoll_ctl calls fall outside), the client's is
#    the whole call; so the table also gives wall time per request at one connection, which
#    counts all of both, and at one connection hiredis's own synchronous client takes a third
#    turn in each round (Scripts/lib/hiredis-bench.c, built here with cc): the same calls timed
#    whole, in C, on the library this client is built on. The one-connection target is set
#    against that whole call; no client can meet one set against redis-benchmark's shorter span
#    (hiredis itself measured 1.19× to 1.28× its mean on 2026-12-07).
# Ends with one table of the figures, their ratios and the issue's targets, and how much CPU time the
# host took from this machine (steal) while each timed part ran: on a shared machine it explains a noisy run.
#   Scripts/bench-cost.sh [appends] [lrange requests] [messages]   (defaults 5000 50000 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh
source Scripts/lib/redis-benchmark-rows.sh
ensure_base_packages
ensure_packages "taskset:util-linux" "cc:gcc"
APPENDS=${1:-5000}       # measured calls of each of the four appends, over 10 rounds
REQUESTS=${2:-50000}     # measured requests of each redis-benchmark / RedisBenchmark test
MESSAGES=${3:-1000}      # chat turns for the bytes per message
APPEND_WARMUP=500
WARMUP=1000             # unmeasured requests before each round of each side's LRANGE test
ROUNDS=5                # LRANGE rounds, redis-benchmark and the client in turn
require_count appends "$APPENDS" 1
require_count "lrange requests" "$REQUESTS" "$ROUNDS"
require_count messages "$MESSAGES" 1
started=$SECONDS

work=$(mktemp -d)
trap 'stop_redis; rm -rf "$work"' EXIT
start_redis
export REDIS_URL

build() {
    say "building $1 (release)"
    swift build -c release --product "$1" >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; return 1; }
}
build ChatMemoryBenchmark
build RedisBenchmark
say "building Scripts/lib/hiredis-bench.c"
# shellcheck disable=SC2046 # pkg-config's flags are separate words
cc -O2 -o "$work/hiredis-bench" Scripts/lib/hiredis-bench.c $(pkg-config --cflags --libs hiredis)
BIN_DIR=$(swift build -c release --show-bin-path)
say "preparing the LlamaIndex virtualenv (.build-llamaindex-venv)"
versions=$(python3 Scripts/lib/llamaindex-bench.py versions)

ALL_CPUS=0-$(($(nproc) - 1))
pin() { taskset -pc "$1" "$REDIS_PID" >/dev/null; taskset -pc "$1" $$ >/dev/null; }

say "1/3 server time per append: $APPENDS calls of each after $APPEND_WARMUP unmeasured (pinned to CPU 0)"
pin 0
ticks=$(cpu_ticks)
"$BIN_DIR/ChatMemoryBenchmark" append-cost -n "$APPENDS" -w "$APPEND_WARMUP" >"$work/append"
append_steal=$(steal_since "$ticks")
pin "$ALL_CPUS"

say "2/3 Redis bytes per message: $MESSAGES chat turns written by each side"
python3 Scripts/lib/entry-bytes.py texts "$work/texts.jsonl" -n "$MESSAGES" >"$work/texts"
"$BIN_DIR/ChatMemoryBenchmark" entry-bytes --texts "$work/texts.jsonl" >"$work/bytes"
python3 Scripts/lib/entry-bytes.py llamaindex "$work/texts.jsonl" >>"$work/bytes"
python3 Scripts/lib/entry-bytes.py langchain "$work/texts.jsonl" >>"$work/bytes"
python3 Scripts/lib/entry-bytes.py langchain-0.3 "$work/texts.jsonl" >>"$work/bytes"

say "3/3 LRANGE 0 49: $REQUESTS requests per test in $ROUNDS rounds, at concurrency 1 (pinned to CPU 0; hiredis's synchronous client too) and 50 (unpinned)"
pin 0
ticks=$(cpu_ticks)
interleaved_rows "$BIN_DIR/RedisBenchmark" 1 cpu0 "$REQUESTS" "$WARMUP" "$ROUNDS" "$work/hiredis-bench" >>"$work/lrange"
lrange1_steal=$(steal_since "$ticks")
pin "$ALL_CPUS"
ticks=$(cpu_ticks)
interleaved_rows "$BIN_DIR/RedisBenchmark" 50 none "$REQUESTS" "$WARMUP" "$ROUNDS" >>"$work/lrange"
lrange50_steal=$(steal_since "$ticks")

# The Nth comma-separated field of the first line of FILE starting with PREFIX: field FILE PREFIX N
field() { awk -F, -v prefix="$2" -v n="$3" 'index($0, prefix) == 1 { print $n; found = 1; exit } END { exit !found }' "$1"; }

echo
echo "redis-server $(redis-server --version | sed -E 's/.*v=([^ ]+).*/\1/'); Swift side: $(swift --version 2>/dev/null | head -1)"
echo "Python side: $versions"
echo
echo "1. Server time per single-message append"
grep -v '^append-cost,' "$work/append" | sed '/^$/d'
echo
echo "2. Redis memory per message: $(cut -d, -f2 "$work/texts") turns, $(cut -d, -f4 "$work/texts") bytes of text on average, roles alternating"
awk -F, 'BEGIN { printf "  %-40s %9s %12s %13s %12s\n", "written by", "messages", "entry bytes", "MEMORY USAGE", "bytes/msg"
                 name["ours"] = "this library (chat:<id>)"; name["llamaindex"] = "LlamaIndex RedisChatStore.add_message"
                 name["langchain"] = "LangChain format (LPUSH json.dumps)"
                 name["langchain-0.3"] = "  the same, langchain-core 0.3 messages" }
         { printf "  %-40s %9d %12.1f %13d %12.1f\n", name[$2], $3, $7, $5, $6
           if ($2 == "ours") index_bytes = $9 }
         END { printf "  (this library also keeps an id index beside the session: %d bytes, not counted above)\n", index_bytes }' "$work/bytes"
echo
echo "3. LRANGE 0 49 of 300-byte values, redis-benchmark $(redis-benchmark --version | awk '{print $2}') beside the client (latencies in µs)"
grep '^LRANGE_50,' "$work/lrange" | python3 Scripts/lib/benchmark-csv.py table --ref redis-benchmark --ours client --unit us --ratio latency
echo "   the same at one connection beside hiredis's synchronous client (C; each call timed whole)"
grep '^LRANGE_50,1,' "$work/lrange" | grep -v ',ref,' | sed 's/,hiredis,/,ref,/' |
    python3 Scripts/lib/benchmark-csv.py table --ref hiredis --ours client --unit us --ratio latency

append=$(field "$work/append" append-cost, 9)
lrange() { field "$work/lrange" "LRANGE_50,$1,$2," "$3"; }
echo
echo "Cost per message, side by side (ratio = ours / reference; append: cap $(field "$work/append" append-cost, 2), time to live $(field "$work/append" append-cost, 3) s, idempotency window $(field "$work/append" append-cost, 4))"
{
    echo "server µs per append,bare LPUSH+LTRIM+PEXPIRE script,$(field "$work/append" append-cost, 11),$append,<=1.6"
    echo "server µs per append,the same script back to back,$(field "$work/append" append-cost, 16),$append,"
    echo "server µs per append,the same script with string bounds,$(field "$work/append" append-cost, 17),$append,"
    echo "server µs per retried append (duplicates),our append,$append,$(field "$work/append" append-cost, 10),<=1.0"
    echo "server µs per append,LlamaIndex put (RPUSH + EXPIRE),$(field "$work/append" append-cost, 12),$append,"
    echo "Redis bytes per message,LlamaIndex RedisChatStore,$(field "$work/bytes" entry-bytes,llamaindex, 6),$(field "$work/bytes" entry-bytes,ours, 6),<=1.0"
    echo "Redis bytes per message,LangChain format,$(field "$work/bytes" entry-bytes,langchain, 6),$(field "$work/bytes" entry-bytes,ours, 6),"
    echo "Redis bytes per message,LangChain format (core 0.3),$(field "$work/bytes" entry-bytes,langchain-0.3, 6),$(field "$work/bytes" entry-bytes,ours, 6),"
    echo "LRANGE 0 49 mean µs (1 connection; pinned),hiredis synchronous call (C),$(awk "BEGIN { print $(lrange 1 hiredis 7) * 1000 }"),$(awk "BEGIN { print $(lrange 1 ours 7) * 1000 }"),<=1.15"
    echo "LRANGE 0 49 mean µs (1 connection; pinned),redis-benchmark (write to reply),$(awk "BEGIN { print $(lrange 1 ref 7) * 1000 }"),$(awk "BEGIN { print $(lrange 1 ours 7) * 1000 }"),"
    echo "LRANGE 0 49 wall µs per request (1 conn.),redis-benchmark,$(awk "BEGIN { print 1e6 / $(lrange 1 ref 10) }"),$(awk "BEGIN { print 1e6 / $(lrange 1 ours 10) }"),"
    echo "LRANGE 0 49 ops/s (50 tasks),redis-benchmark,$(lrange 50 ref 10),$(lrange 50 ours 10),>=1.1"
} | python3 Scripts/lib/benchmark-csv.py ratios
echo "CPU time the host took from this machine (steal): $append_steal during the appends, $lrange1_steal during the one-connection reads, $lrange50_steal during the 50-task reads; a run where it is high is a noisy one"
say "done in $((SECONDS - started)) s"
