# The failover story of Scripts/demo.sh --cluster / --sentinel: Redis is a private Redis Cluster
# (3 primaries, 3 replicas) or a Sentinel group (a primary, 2 replicas, 3 sentinels); the workers
# get its URL as REDIS_URL and CHAT_REPLICAS=1, and the primary holding the conversation is killed.
# Sourced by Scripts/demo.sh after its helpers (step, proof, holds, turn, ...); don't run it.

# Starts the topology of $mode; sets REDIS_URL and the workers' extra environment.
start_topology() {
    if [[ $mode == cluster ]]; then
        start_cluster
        REDIS_URL=$REDIS_CLUSTER_URL
        echo "   Redis Cluster: primaries and replicas on ports $REDIS_CLUSTER_PORTS"
        slot=$(redis-cli -p "${REDIS_CLUSTER_PORTS%% *}" CLUSTER KEYSLOT "chat:$session")
        read -r owner owner_id < <(slot_owner "$slot")
        # The spare replica: with CHAT_REPLICAS=1 a turn is answered only once a replica holds
        # it, so the promoted replica needs a replica of its own for the turns after a failover.
        add_spare_replica "$owner" "$owner_id"
        echo "   chat:$session hashes to slot $slot (CLUSTER KEYSLOT), owned by primary $owner;" \
            "its replicas: $(replicas_of "$owner_id" | grep -vx "$spare" | paste -sd' ') and $spare, a spare this demo added"
    else
        start_sentinel
        REDIS_URL=$REDIS_SENTINEL_URL
        owner=$(Scripts/redis-sentinel.sh primary "$REDIS_SENTINEL_DIR")
        echo "   Sentinel group '$REDIS_SENTINEL_MASTER_NAME': data nodes $REDIS_SENTINEL_DATA_PORTS (primary $owner), sentinels $REDIS_SENTINEL_PORTS"
    fi
    worker_env=(CHAT_REPLICAS=1)
    echo "   REDIS_URL=$REDIS_URL (the only change from the one-server demo), CHAT_REPLICAS=1"
}

stop_topology() {
    if [[ $mode == cluster ]]; then stop_cluster; else stop_sentinel; fi
}

# CLUSTER NODES from the first node that answers.
cluster_nodes() {
    local port
    for port in $REDIS_CLUSTER_PORTS ${spare:-}; do
        redis-cli -p "$port" CLUSTER NODES 2>/dev/null && return 0
    done
    return 1
}

# Prints "port id" of the live primary that serves SLOT.
slot_owner() {
    cluster_nodes | awk -v slot="$1" '$3 ~ /master/ && $3 !~ /fail/ {
        for (i = 9; i <= NF; i++) {
            n = split($i, range, "-"); if (range[1] !~ /^[0-9]+$/) continue
            if (slot >= range[1] + 0 && slot <= range[n] + 0) { split($2, address, "[:@]"); print address[2], $1; exit }
        }
    }'
}

# Prints the ports of the live replicas of the primary with node ID, one per line.
replicas_of() {
    cluster_nodes | awk -v id="$1" '$4 == id && $3 ~ /slave/ && $3 !~ /fail/ { split($2, address, "[:@]"); print address[2] }' | sort -n
}

# Starts a 7th node in the cluster's folder (so stopping the cluster stops it too), configured like
# PORT's node, and makes it a replica of PORT (node ID); waits until its link is up.
add_spare_replica() {
    local primary=$1 id=$2 bus node tries=0
    spare=$(free_port); bus=$(free_port)
    node="$REDIS_CLUSTER_DIR/$spare"
    mkdir -p "$node"
    sed -e "s/^port .*/port $spare/" -e "s/^cluster-port .*/cluster-port $bus/" \
        -e "s#$REDIS_CLUSTER_DIR/$primary#$node#g" "$REDIS_CLUSTER_DIR/$primary/redis.conf" >"$node/redis.conf"
    redis-server "$node/redis.conf"
    redis-cli --cluster add-node "127.0.0.1:$spare" "127.0.0.1:$primary" --cluster-slave --cluster-master-id "$id" \
        >"$node/add-node.log" 2>&1 || { say "adding the spare replica failed:"; cat "$node/add-node.log" >&2; return 1; }
    until redis-cli -p "$spare" INFO replication 2>/dev/null | grep -q 'master_link_status:up'; do
        tries=$((tries + 1))
        ((tries < 300)) || { say "the spare replica $spare did not sync"; tail -20 "$node/redis.log" >&2; return 1; }
        sleep 0.1
    done
    Scripts/redis-cluster.sh wait-healthy "$REDIS_CLUSTER_DIR"
}

# The primary holding the session now: sets owner (and owner_id on a cluster).
find_owner() {
    if [[ $mode == cluster ]]; then read -r owner owner_id < <(slot_owner "$slot")
    else owner=$(Scripts/redis-sentinel.sh primary "$REDIS_SENTINEL_DIR"); fi
}

# Ports of the current primary's live replicas, one per line.
owner_replicas() {
    if [[ $mode == cluster ]]; then replicas_of "$owner_id"; return; fi
    local port
    for port in $REDIS_SENTINEL_DATA_PORTS; do
        [[ $port != "$owner" ]] || continue
        redis-cli -p "$port" INFO replication 2>/dev/null | tr -d '\r' | grep -qx "master_port:$owner" && echo "$port"
    done
}

# LLEN of the session's key on PORT (a cluster replica needs READONLY first, on the same connection).
llen_on() {
    printf 'READONLY\nLLEN chat:%s\n' "$session" | redis-cli -p "$1" 2>/dev/null | tail -1
}

topology_story() {
    local expected replica before killed_at replicas=() llen
    step "5/7 where the session lives"
    find_owner
    mapfile -t replicas < <(owner_replicas)
    echo "-- redis-cli on the primary $owner (Scripts/inspect.sh $session), entries newest first:"
    REDIS_URL="redis://127.0.0.1:$owner" Scripts/inspect.sh "$session" | grep -E '^(key|type|llen|\[)' | head -8
    expected=$((2 * ${#said[@]}))
    llen=$(redis-cli -p "$owner" LLEN "chat:$session")
    proof "$(holds test "$llen" = "$expected")" "the primary $owner holds $expected messages (6 turns x user + assistant): $llen"
    for replica in "${replicas[@]}"; do
        llen=$(llen_on "$replica")
        proof "$(holds test "$llen" = "$expected")" "its replica $replica holds them too: $llen (CHAT_REPLICAS=1: no turn was answered before a replica had it)"
    done
    if [[ -n $cli_bin ]]; then
        echo "-- chat-memory show $session (REDIS_URL=$REDIS_URL):"
        REDIS_URL=$REDIS_URL "$cli_bin" show "$session" | head -8
    fi

    step "6/7 failure: SIGKILL the primary $owner that holds the session"
    before=$owner
    killed_at=$(date +%s%N)
    if [[ $mode == cluster ]]; then Scripts/redis-cluster.sh kill-node "$REDIS_CLUSTER_DIR" "$owner"
    else Scripts/redis-sentinel.sh kill-node "$REDIS_SENTINEL_DIR" "$owner"; fi
    echo "   primary $owner killed with SIGKILL; the workers are not told anything"
    echo "   the demo's HTTP client retries a turn that answers 503 with the same message id, once a second"
    retry_503=30
    turn 0 "Do you still know where I live?"
    echo "   turn answered $(( ($(date +%s%N) - killed_at) / 1000000 )) ms after the kill, at attempt $last_attempts"
    find_owner
    mapfile -t replicas < <(owner_replicas)
    proof "$(holds test -n "$owner" -a "$owner" != "$before")" "a replica took over: the session's primary is now $owner (was $before)"
    turn 1 "And my cat's name?"
    proof "$(holds test "$last_attempts" = 1)" "the next turn (w2) succeeded at its first attempt"
    turn 2 "Thanks, that is all."
    proof "$(holds test "$last_attempts" = 1)" "and the one after (w3) too"

    step "7/7 the whole conversation after the failover"
    history_proof 2
    expected=$((2 * ${#said[@]}))
    for replica in "${replicas[@]}"; do
        llen=$(llen_on "$replica")
        proof "$(holds test "$llen" = "$expected")" "the new primary's replica $replica holds all $expected messages: $llen"
    done
    ((${#replicas[@]} > 0)) || proof 1 "the new primary $owner has a replica"
    if [[ -n $cli_bin ]]; then
        echo "-- chat-memory window $session --tokens 120:"
        REDIS_URL=$REDIS_URL "$cli_bin" window "$session" --tokens 120 | head -12
    fi
    cat <<'TEXT'
   What CHAT_REPLICAS=1 means: each append waits (WAIT 1, 500 ms) until a replica holds it, so a
   turn the server answered survives the loss of its primary. Without it Redis copies to replicas
   asynchronously, and the last turns a primary acknowledged before dying can be missing on the
   replica that takes over. While no replica answers, a turn is stored on the primary only and
   answered 503 replicas_unavailable; retrying it with the same message id stores nothing twice.
TEXT
}
