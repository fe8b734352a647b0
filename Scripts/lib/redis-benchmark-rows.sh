# The client (Sources/RedisBenchmark) and redis-benchmark doing the same work on the server of
# start_redis: LPUSH of a 300-byte value, then LRANGE 0 49 of that list. Each function prints one
# row per test for `Scripts/lib/benchmark-csv.py table`; each test runs WARMUP unmeasured
# requests before its REQUESTS measured ones. Source it after common.sh.

# redis-benchmark's rows: CONCURRENCY PINNING REQUESTS WARMUP (PINNING is only printed).
reference_rows() {
    local concurrency=$1 pinning=$2 requests=$3 warmup=$4 value name csv rps mean p50 p95 p99
    value=$(head -c 300 /dev/zero | tr '\0' x)
    redis-cli -p "$REDIS_PORT" del bench:mylist >/dev/null
    for name in LPUSH LRANGE_50; do
        if [[ $name == LPUSH ]]; then set -- LPUSH bench:mylist "$value"; else set -- LRANGE bench:mylist 0 49; fi
        redis-benchmark -p "$REDIS_PORT" -c "$concurrency" -n "$warmup" --csv "$@" >/dev/null
        # Read once it ended: a parser starting beside it would take CPU from the measured run.
        csv=$(redis-benchmark -p "$REDIS_PORT" -c "$concurrency" -n "$requests" --csv "$@")
        IFS=, read -r rps mean p50 p95 p99 < <(python3 "$_SCRIPTS_DIR/lib/benchmark-csv.py" <<<"$csv")
        echo "$name,$concurrency,ref,$requests,$warmup,$pinning,$mean,$p50,$p99,$rps,p95 $p95 ms"
    done
}

# The client's rows: BIN (the RedisBenchmark executable) CONCURRENCY PINNING REQUESTS WARMUP.
# RedisBenchmark prints test,concurrency,requests,rps,p50_ms,p99_ms,mean_ms,warmup.
client_rows() {
    local csv
    csv=$("$1" --url "$REDIS_URL" -c "$2" -n "$4" -w "$5" -d 300)   # parsed once it ended, as above
    awk -F, -v OFS=, -v pinning="$3" '{ print $1, $2, "ours", $3, $8, pinning, $7, $5, $6, $4, "" }' <<<"$csv"
}

# hiredis's synchronous client (Scripts/lib/hiredis-bench.c, one connection), side "hiredis":
# BIN (its executable) PINNING REQUESTS WARMUP. Its CSV is RedisBenchmark's.
hiredis_rows() {
    local csv
    csv=$("$1" "$REDIS_PORT" "$3" "$4")   # parsed once it ended, as above
    awk -F, -v OFS=, -v pinning="$2" '{ print $1, $2, "hiredis", $3, $8, pinning, $7, $5, $6, $4, "" }' <<<"$csv"
}

# Both sides at one concurrency in ROUNDS rounds taken in turn (redis-benchmark, then the client,
# REQUESTS / ROUNDS measured requests each after WARMUP unmeasured), so that a burst of other
# load on this shared machine falls on both alike; prints one row per test and side with the
# median of the rounds' figures: BIN CONCURRENCY PINNING REQUESTS WARMUP ROUNDS [HIREDIS_BIN].
# With HIREDIS_BIN (concurrency 1 only), hiredis's synchronous client takes its turn third.
interleaved_rows() {
    local bin=$1 concurrency=$2 pinning=$3 requests=$4 warmup=$5 rounds=$6 hiredis=${7:-} round
    for ((round = 0; round < rounds; round++)); do
        reference_rows "$concurrency" "$pinning" $((requests / rounds)) "$warmup"
        client_rows "$bin" "$concurrency" "$pinning" $((requests / rounds)) "$warmup"
        if [[ -n $hiredis ]]; then hiredis_rows "$hiredis" "$pinning" $((requests / rounds)) "$warmup"; fi
    done | python3 "$_SCRIPTS_DIR/lib/benchmark-csv.py" median
}
