#!/usr/bin/env bash
# One node beside a Redis Cluster, on this machine, through the same client code (only REDIS_URL
# changes), and the cost of the durability setting (ChatMemoryConfiguration.replication):
# - appends of one ~300-byte message and 3,000-token window reads (.modelSafe, 100-message
#   sessions), sequential and from 50 concurrent tasks (each task on its own session, so on the
#   cluster the sessions spread over the primaries), on one redis-server with one replica and on
#   a private 3+3 cluster (Scripts/redis-cluster.sh), side by side with the cluster/node ratio;
# - the same appends with replication (WAIT for 1 replica, 500 ms) beside those without, on both.
# Every row is run REPEATS times (default 3), the targets in turn, and the medians are printed:
# mean, p50 and p99 latency, operations per second, with the measured and warm-up request counts.
# Nothing is pinned to a core: the client and every server share this machine's cores, so the
# ratio is the price of cluster routing on one machine, not the gain of spreading the data.
#
#   Scripts/bench-cluster.sh
#   REPEATS=5 SEQUENTIAL=5000 CONCURRENT=40000 WARMUP=1000 Scripts/bench-cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh
ensure_base_packages
REPEATS=${REPEATS:-3}
SEQUENTIAL=${SEQUENTIAL:-3000}     # measured requests of a sequential row
CONCURRENT=${CONCURRENT:-20000}    # measured requests of a 50-task row
WARMUP=${WARMUP:-500}              # unmeasured requests before each row

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-cluster.XXXXXX")
REPLICA_PID=
REDIS_CLUSTER_DIR=   # set by start_cluster; never one inherited from the environment
cleanup() {
    [[ -n $REPLICA_PID ]] && { kill "$REPLICA_PID" 2>/dev/null || true; wait "$REPLICA_PID" 2>/dev/null || true; }
    stop_redis
    stop_cluster
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "building ChatMemoryBenchmark (release)"
swift build -c release --product ChatMemoryBenchmark >/dev/null
BIN="$(swift build -c release --show-bin-path)/ChatMemoryBenchmark"

start_redis
NODE_URL=$REDIS_URL
replica_port=$(free_port)
mkdir -p "$WORK/replica"
redis-server --port "$replica_port" --bind 127.0.0.1 --dir "$WORK/replica" --save '' --appendonly no \
    --daemonize no --logfile "$WORK/replica/redis.log" --replicaof 127.0.0.1 "$REDIS_PORT" &
REPLICA_PID=$!
tries=0
until redis-cli -p "$replica_port" INFO replication 2>/dev/null | grep -q 'master_link_status:up'; do
    tries=$((tries + 1))
    ((tries < 100)) || { say "the node's replica did not sync"; tail -20 "$WORK/replica/redis.log" >&2; exit 1; }
    sleep 0.1
done
say "one node on $REDIS_PORT with a replica on $replica_port"
start_cluster
CLUSTER_URL=$REDIS_CLUSTER_URL
say "cluster of 3 primaries and 3 replicas on $REDIS_CLUSTER_PORTS"

# kind concurrency requests replicas
rows=(
    "append 1 $SEQUENTIAL 0"
    "append 50 $CONCURRENT 0"
    "window 1 $SEQUENTIAL 0"
    "window 50 $CONCURRENT 0"
    "append 1 $SEQUENTIAL 1"
    "append 50 $CONCURRENT 1"
)
started=$SECONDS
for ((repeat = 1; repeat <= REPEATS; repeat++)); do
    say "round $repeat of $REPEATS"
    for row in "${rows[@]}"; do
        read -r kind concurrency requests replicas <<<"$row"
        for target in node cluster; do
            url=$NODE_URL; [[ $target == cluster ]] && url=$CLUSTER_URL
            line=$(REDIS_URL=$url "$BIN" rates "$kind" -c "$concurrency" -n "$requests" -w "$WARMUP" -r "$replicas")
            [[ $line == "$kind,"* ]] || { say "unexpected output: $line"; exit 1; }
            echo "$target,$line" >>"$WORK/results.csv"
        done
    done
done
say "measured in $((SECONDS - started)) s"

python3 - "$WORK/results.csv" "$REPEATS" <<'PY'
import csv, os, statistics, sys
path, repeats = sys.argv[1], sys.argv[2]
runs = {}
for target, kind, conc, n, warm, reps, mean, p50, p99, rate in csv.reader(open(path)):
    runs.setdefault((target, kind, int(conc), int(reps)), []).append(
        dict(n=int(n), warm=int(warm), mean=float(mean), p50=float(p50), p99=float(p99), rate=float(rate)))
def med(key, field):
    return statistics.median(run[field] for run in runs[key])
def cells(key):
    return f"{med(key, 'mean'):>7.3f} {med(key, 'p50'):>7.3f} {med(key, 'p99'):>7.3f} {med(key, 'rate'):>8.0f}"
head = f"{'mean ms':>7} {'p50 ms':>7} {'p99 ms':>7} {'ops/s':>8}"
print()
print(f"medians of {repeats} runs; n = measured requests per run, after the warm-up ones;"
      f" {os.cpu_count()} cores shared by the client and every server, nothing pinned")
print(f"{'operation':<9} {'conc':>4} {'n':>6} {'warm':>5} | node + 1 replica: {head} | cluster 3+3: {head} | {'cluster/node':>12}")
for kind in ("append", "window"):
    for conc in (1, 50):
        node, cluster = ("node", kind, conc, 0), ("cluster", kind, conc, 0)
        first = runs[node][0]
        print(f"{kind:<9} {conc:>4} {first['n']:>6} {first['warm']:>5} | {'':>17} {cells(node)} | {'':>12} {cells(cluster)} |"
              f" {med(cluster, 'rate') / med(node, 'rate'):>12.2f}")
print()
print("durability: appends that WAIT for 1 replica (500 ms) beside appends that do not")
print(f"{'target':<16} {'conc':>4} {'n':>6} | without: {head} | replicas 1: {head} | {'ops ratio':>9} {'p50 ratio':>9}")
for target, label in (("node", "node + 1 replica"), ("cluster", "cluster 3+3")):
    for conc in (1, 50):
        plain, durable = (target, "append", conc, 0), (target, "append", conc, 1)
        print(f"{label:<16} {conc:>4} {runs[durable][0]['n']:>6} | {'':>8} {cells(plain)} | {'':>11} {cells(durable)} |"
              f" {med(durable, 'rate') / med(plain, 'rate'):>9.2f} {med(durable, 'p50') / med(plain, 'p50'):>9.2f}")
PY
