#!/usr/bin/env bash
# A private Redis Cluster on loopback: 3 primaries and 3 replicas, each in DIR/<port>/ (redis.conf,
# nodes.conf, redis.log, redis.pid), no persistence, DEBUG allowed, a 1 s node timeout so a killed
# primary's replica takes over within a few seconds.
#
#   Scripts/redis-cluster.sh start DIR [--password PW]   # prints REDIS_CLUSTER_URL, writes DIR/env
#   Scripts/redis-cluster.sh stop DIR                    # stops every server of DIR, removes DIR
#   Scripts/redis-cluster.sh wait-healthy DIR            # waits (60 s at most) until healthy
#   Scripts/redis-cluster.sh primaries DIR               # the port of each current primary
#   Scripts/redis-cluster.sh kill-node DIR PORT          # SIGKILLs a node, waits until it is gone
#   Scripts/redis-cluster.sh restart-node DIR PORT       # starts a stopped node again (it rejoins)
#
# DIR/env exports REDIS_CLUSTER_URL (redis+cluster://[:PW@]127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3,
# the first three ports as seeds), REDIS_CLUSTER_PORTS (all six), REDIS_CLUSTER_PASSWORD (may be
# empty) and REDIS_CLUSTER_DIR. Healthy means: every running node answers and says cluster_state:ok
# with all 16384 slots assigned and ok, all agree on which primary owns which slots, every owner
# runs and is a primary, and every running replica's link to its primary is up.
# REDIS_CLUSTER_NODE_TIMEOUT (ms, default 1000) sets cluster-node-timeout at start.
# A failed start stops what it started and keeps DIR (for its logs); `stop DIR` removes it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"
source "$here/lib/topology.sh"

usage() {
    sed -n '6,11p' "$0" | sed 's/^# *//' >&2
    exit 2
}

# Loads DIR/env: the ports and the password of the cluster in DIR.
load_env() {
    [[ -f $1/env ]] || { say "ERROR: no cluster in $1 (no $1/env)" >&2; exit 1; }
    source "$1/env"
}

# Prints redis.conf for a node. Usage: node_conf PORT BUS_PORT NODE_DIR PASSWORD
node_conf() {
    base_conf "$1" "$3"
    data_conf
    cat <<EOF
cluster-enabled yes
cluster-port $2
cluster-config-file nodes.conf
cluster-node-timeout ${REDIS_CLUSTER_NODE_TIMEOUT:-1000}
cluster-replica-validity-factor 0
cluster-allow-replica-migration no
EOF
    if [[ -n $4 ]]; then
        printf 'requirepass %s\nmasterauth %s\n' "$(conf_quote "$4")" "$(conf_quote "$4")"
    fi
}

# Starts six nodes on free ports; tries new ports twice more if a node does not come up (another
# process may take a port between choosing it and binding it). Sets `ports`.
start_nodes() {
    local dir=$1 password=$2 attempt i chosen node
    for attempt in 1 2 3; do
        mapfile -t chosen < <(free_ports 12)
        ports=("${chosen[@]:0:6}")
        local started=1
        for i in 0 1 2 3 4 5; do
            node="$dir/${ports[i]}"
            mkdir -p "$node"
            node_conf "${ports[i]}" "${chosen[i + 6]}" "$node" "$password" >"$node/redis.conf"
            chmod 600 "$node/redis.conf"
            start_server "$node" "${ports[i]}" "$password" || { started=0; break; }
        done
        ((started)) && return 0
        stop_servers "$dir" TERM
        ((attempt < 3)) || break
        say "attempt $attempt of 3 to start the nodes failed; trying new ports" >&2
        rm -rf "${dir:?}"/*/
    done
    return 1
}

# Prints "id port slots..." of every primary that owns slots and is not failing, in the view of
# the node on PORT, sorted.
slot_owners() {
    local nodes
    nodes=$(cli "$1" "$2" cluster nodes) || return 1
    awk '$3 ~ /master/ && $3 !~ /fail/ && NF > 8 {
            split($2, address, "[:@]"); line = $1 " " address[2]
            for (i = 9; i <= NF; i++) line = line " " $i
            print line
         }' <<<"$nodes" | sort
}

# Succeeds when the cluster of DIR is healthy (see the header); otherwise sets `reason`.
check_healthy() {
    local dir=$1 password=$2 live port info owners agreed="" owner role
    live=$(live_ports "$dir")
    [[ -n $live ]] || { reason="no node runs"; return 1; }
    for port in $live; do
        info=$(cli "$port" "$password" cluster info 2>/dev/null) || { reason="node $port does not answer"; return 1; }
        if [[ $info != *cluster_state:ok* || $info != *cluster_slots_assigned:16384* || $info != *cluster_slots_ok:16384* ]]; then
            reason="node $port: $(grep -E '^cluster_(state|slots_assigned|slots_ok):' <<<"$info" | tr -d '\r' | paste -sd' ')"
            return 1
        fi
        owners=$(slot_owners "$port" "$password" 2>/dev/null) || { reason="node $port does not answer"; return 1; }
        if [[ -z $agreed ]]; then agreed=$owners
        elif [[ $owners != "$agreed" ]]; then reason="nodes disagree on the slot owners"; return 1; fi
        info=$(cli "$port" "$password" info replication 2>/dev/null) || { reason="node $port does not answer"; return 1; }
        if [[ $info == *role:slave* && $info != *master_link_status:up* ]]; then
            reason="replica $port: link to its primary is not up"
            return 1
        fi
    done
    for owner in $(awk '{ print $2 }' <<<"$agreed"); do
        role=$(cli "$owner" "$password" role 2>/dev/null | head -1) || role=""
        [[ $role == master ]] || { reason="slot owner $owner does not answer as a primary"; return 1; }
    done
}

# Waits up to SECONDS (default 60) until the cluster of DIR is healthy; else shows why and the logs.
wait_healthy() {
    local dir=$1 password=$2 seconds=${3:-60} reason="" deadline
    deadline=$((SECONDS + seconds))
    until check_healthy "$dir" "$password"; do
        if ((SECONDS >= deadline)); then
            say "ERROR: the cluster in $dir is not healthy after ${seconds}s: $reason" >&2
            dump_logs "$dir"
            return 1
        fi
        sleep 0.2
    done
}

# After a failed start: stops every server of the folder being started (its logs stay).
on_start_exit() {
    local status=$?
    ((status == 0)) && return 0
    say "start failed; stopping its servers (logs kept in $starting_dir)" >&2
    stop_servers "$starting_dir" TERM
}

cmd_start() {
    local dir=$1 password="" ports=() seeds url userinfo=""
    shift
    while (($#)); do
        case $1 in
            --password) (($# >= 2)) || usage; password=$2; shift 2 ;;
            *) usage ;;
        esac
    done
    prepare_dir "$dir"
    dir=$(absolute_dir "$dir")
    starting_dir=$dir
    trap on_start_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    say "starting 6 cluster nodes in $dir" >&2
    start_nodes "$dir" "$password"
    say "creating the cluster (ports ${ports[*]})" >&2
    local addresses=() port
    for port in "${ports[@]}"; do addresses+=("127.0.0.1:$port"); done
    if ! (if [[ -n $password ]]; then export REDISCLI_AUTH=$password; fi
          redis-cli --cluster create "${addresses[@]}" --cluster-replicas 1 --cluster-yes) >"$dir/create.log" 2>&1; then
        say "ERROR: redis-cli --cluster create failed:" >&2
        cat "$dir/create.log" >&2
        dump_logs "$dir"
        exit 1
    fi
    wait_healthy "$dir" "$password"
    seeds="127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}"
    [[ -n $password ]] && userinfo=":$(url_encode "$password")@"
    url="redis+cluster://$userinfo$seeds"
    write_env "$dir/env" "REDIS_CLUSTER_URL=$url" "REDIS_CLUSTER_PORTS=${ports[*]}" \
        "REDIS_CLUSTER_PASSWORD=$password" "REDIS_CLUSTER_DIR=$dir"
    say "cluster healthy on ports ${ports[*]} in ${SECONDS}s" >&2
    printf '%s\n' "$url"
}

cmd_stop() {
    local dir=$1
    [[ -d $dir ]] || return 0
    dir=$(absolute_dir "$dir")
    stop_servers "$dir" TERM
    rm -rf "$dir"
}

cmd_primaries() {
    local dir=$1 port
    load_env "$dir"
    for port in $(live_ports "$REDIS_CLUSTER_DIR"); do
        if owners=$(slot_owners "$port" "$REDIS_CLUSTER_PASSWORD" 2>/dev/null) && [[ -n $owners ]]; then
            awk '{ print $2 }' <<<"$owners" | sort -n
            return 0
        fi
    done
    say "ERROR: no node of $dir answers" >&2
    return 1
}

# Checks that PORT is one of the cluster's nodes.
known_port() {
    [[ " $REDIS_CLUSTER_PORTS " == *" $1 "* ]] || { say "ERROR: $1 is not a node of $REDIS_CLUSTER_DIR" >&2; exit 1; }
}

cmd_kill_node() {
    load_env "$1"
    known_port "$2"
    stop_servers "$REDIS_CLUSTER_DIR" KILL "$2"
}

cmd_restart_node() {
    load_env "$1"
    known_port "$2"
    if [[ -n $(server_pids "$REDIS_CLUSTER_DIR" "$2") ]]; then
        say "ERROR: node $2 is running" >&2
        exit 1
    fi
    start_server "$REDIS_CLUSTER_DIR/$2" "$2" "$REDIS_CLUSTER_PASSWORD"
}

(($# >= 2)) || usage
command=$1 dir=$2
shift 2
case $command in
    start) cmd_start "$dir" "$@" ;;
    stop) (($# == 0)) || usage; cmd_stop "$dir" ;;
    wait-healthy) (($# == 0)) || usage; load_env "$dir"; wait_healthy "$REDIS_CLUSTER_DIR" "$REDIS_CLUSTER_PASSWORD" ;;
    primaries) (($# == 0)) || usage; cmd_primaries "$dir" ;;
    kill-node) (($# == 1)) || usage; cmd_kill_node "$dir" "$1" ;;
    restart-node) (($# == 1)) || usage; cmd_restart_node "$dir" "$1" ;;
    *) usage ;;
esac
