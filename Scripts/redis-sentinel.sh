#!/usr/bin/env bash
# A private Redis Sentinel setup on loopback: a primary, 2 replicas and 3 sentinels (quorum 2,
# down-after 1 s, failover-timeout 3 s, parallel-syncs 1), each server in DIR/<port>/ (redis.conf,
# redis.log, redis.pid), data nodes without persistence and with DEBUG allowed.
#
#   Scripts/redis-sentinel.sh start DIR [--master-name NAME] [--password PW] [--sentinel-password SPW]
#   Scripts/redis-sentinel.sh stop DIR                  # stops every server of DIR, removes DIR
#   Scripts/redis-sentinel.sh wait-healthy DIR          # waits (60 s at most) until healthy
#   Scripts/redis-sentinel.sh primary DIR               # the current primary's port
#   Scripts/redis-sentinel.sh kill-node DIR PORT        # SIGKILLs a server, waits until it is gone
#   Scripts/redis-sentinel.sh restart-node DIR PORT     # starts a stopped server again
#
# The master name defaults to chatmaster. --password sets requirepass and masterauth on the data
# nodes and `sentinel auth-pass` on the sentinels; --sentinel-password sets requirepass and
# `sentinel sentinel-pass` on the sentinels (neither password may hold spaces or quotes). The
# sentinels look at their instances every second (SENTINEL DEBUG info-period 1000 publish-period
# 500), so a restarted former primary becomes a replica within a few seconds.
# `start` prints REDIS_SENTINEL_URL and writes DIR/env, which exports REDIS_SENTINEL_URL
# (redis+sentinel://[:PW@]127.0.0.1:S1,127.0.0.1:S2,127.0.0.1:S3/NAME, with the data password),
# REDIS_SENTINEL_PASSWORD (the sentinels' password, may be empty), REDIS_SENTINEL_DATA_PASSWORD
# (may be empty), REDIS_SENTINEL_PORTS (the sentinels), REDIS_SENTINEL_DATA_PORTS (the primary
# first at start), REDIS_SENTINEL_MASTER_NAME and REDIS_SENTINEL_DIR.
# Healthy means: every running sentinel names the same primary, which runs and answers ROLE as a
# master, flags it just "master", knows the other sentinels, and sees every other running data node
# as a replica of it with its link ok; and every running replica's link to that primary is up.
# A failed start stops what it started and keeps DIR (for its logs); `stop DIR` removes it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"
source "$here/lib/topology.sh"

usage() {
    sed -n '6,11p' "$0" | sed 's/^# *//' >&2
    exit 2
}

# Loads DIR/env: the ports, master name and passwords of the setup in DIR.
load_env() {
    [[ -f $1/env ]] || { say "ERROR: no sentinel setup in $1 (no $1/env)" >&2; exit 1; }
    source "$1/env"
    sentinels=($REDIS_SENTINEL_PORTS)
    data_nodes=($REDIS_SENTINEL_DATA_PORTS)
    name=$REDIS_SENTINEL_MASTER_NAME
    password=$REDIS_SENTINEL_DATA_PASSWORD
    sentinel_password=$REDIS_SENTINEL_PASSWORD
}

# Prints redis.conf for a data node. Usage: data_node_conf PORT NODE_DIR PASSWORD [PRIMARY_PORT]
data_node_conf() {
    base_conf "$1" "$2"
    data_conf
    [[ -n ${4:-} ]] && printf 'replicaof 127.0.0.1 %s\n' "$4"
    if [[ -n $3 ]]; then
        printf 'requirepass %s\nmasterauth %s\n' "$(conf_quote "$3")" "$(conf_quote "$3")"
    fi
}

# Prints the config of a sentinel. Usage: sentinel_conf PORT NODE_DIR PRIMARY_PORT
# (uses name, password and sentinel_password)
sentinel_conf() {
    base_conf "$1" "$2"
    cat <<EOF
sentinel monitor $name 127.0.0.1 $3 2
sentinel down-after-milliseconds $name 1000
sentinel failover-timeout $name 3000
sentinel parallel-syncs $name 1
EOF
    [[ -n $password ]] && printf 'sentinel auth-pass %s %s\n' "$name" "$(conf_quote "$password")"
    if [[ -n $sentinel_password ]]; then
        printf 'requirepass %s\nsentinel sentinel-pass %s\n' "$(conf_quote "$sentinel_password")" "$(conf_quote "$sentinel_password")"
    fi
}

# Makes the sentinel on PORT look at its instances every second (INFO, default 10 s) and say hello
# every half second (default 2 s): it finds replicas and other sentinels sooner, and turns a
# restarted former primary into a replica after 2 s (4 hello periods) instead of 8. Not kept across
# a restart of the sentinel.
quicken_sentinel() {
    [[ $(cli "$1" "$sentinel_password" sentinel debug info-period 1000 publish-period 500 2>&1) == OK ]] ||
        { say "ERROR: SENTINEL DEBUG failed on $1" >&2; return 1; }
}

# The password of the server on PORT: the sentinels' for a sentinel, else the data nodes'.
password_of() {
    if [[ " ${sentinels[*]} " == *" $1 "* ]]; then printf '%s' "$sentinel_password"
    else printf '%s' "$password"; fi
}

# Starts the 3 data nodes, then the 3 sentinels once the replicas' links are up (so the sentinels'
# first look at the primary finds both replicas). Tries new ports twice more if a server does not
# come up (another process may take a port between choosing it and binding it). Sets `data_nodes`
# and `sentinels`.
start_servers() {
    local dir=$1 attempt i chosen node started primary
    for attempt in 1 2 3; do
        mapfile -t chosen < <(free_ports 6)
        data_nodes=("${chosen[@]:0:3}")
        sentinels=("${chosen[@]:3:3}")
        started=1
        for i in 0 1 2; do
            node="$dir/${data_nodes[i]}"
            mkdir -p "$node"
            primary=""
            ((i > 0)) && primary=${data_nodes[0]}
            data_node_conf "${data_nodes[i]}" "$node" "$password" "$primary" >"$node/redis.conf"
            chmod 600 "$node/redis.conf"
            start_server "$node" "${data_nodes[i]}" "$password" || { started=0; break; }
        done
        if ((started)); then
            wait_replicas_linked "$dir" || return 1
            for i in 0 1 2; do
                node="$dir/${sentinels[i]}"
                mkdir -p "$node"
                sentinel_conf "${sentinels[i]}" "$node" "${data_nodes[0]}" >"$node/redis.conf"
                chmod 600 "$node/redis.conf"
                start_server "$node" "${sentinels[i]}" "$sentinel_password" --sentinel &&
                    quicken_sentinel "${sentinels[i]}" || { started=0; break; }
            done
        fi
        ((started)) && return 0
        stop_servers "$dir" TERM
        ((attempt < 3)) || break
        say "attempt $attempt of 3 to start the servers failed; trying new ports" >&2
        rm -rf "${dir:?}"/*/
    done
    return 1
}

# Waits up to 30 s until both replicas' links to the first data node are up.
wait_replicas_linked() {
    local dir=$1 deadline=$((SECONDS + 30)) port info linked
    while :; do
        linked=0
        for port in "${data_nodes[@]:1}"; do
            info=$(cli "$port" "$password" info replication 2>/dev/null) || info=""
            [[ $info == *master_link_status:up* ]] && linked=$((linked + 1))
        done
        ((linked == 2)) && return 0
        if ((SECONDS >= deadline)); then
            say "ERROR: the replicas did not link to the primary within 30s" >&2
            dump_logs "$dir"
            return 1
        fi
        sleep 0.1
    done
}

# Prints "port flags master-link-status master-port" of each replica a sentinel knows, from the
# flat key/value output of SENTINEL REPLICAS.
replica_table() {
    awk 'NR % 2 == 1 { key = $0; next }
         key == "name" && NR > 2 { print port, flags, link, primary; port = flags = link = primary = "-" }
         key == "port" { port = $0 } key == "flags" { flags = $0 }
         key == "master-link-status" { link = $0 } key == "master-port" { primary = $0 }
         END { if (NR > 0) print port, flags, link, primary }'
}

# Prints the value of KEY in the flat key/value output of SENTINEL MASTER.
field() { awk -v key="$1" 'NR % 2 == 1 { k = $0; next } k == key { print; exit }'; }

# Succeeds when the setup of DIR is healthy (see the header); otherwise sets `reason`.
check_healthy() {
    local dir=$1 live port primary="" answer master replicas role info live_data=() live_sentinels=()
    live=" $(live_ports "$dir" | paste -sd' ') "
    for port in "${sentinels[@]}"; do [[ $live == *" $port "* ]] && live_sentinels+=("$port"); done
    for port in "${data_nodes[@]}"; do [[ $live == *" $port "* ]] && live_data+=("$port"); done
    ((${#live_sentinels[@]} > 0)) || { reason="no sentinel runs"; return 1; }
    for port in "${live_sentinels[@]}"; do
        answer=$(cli "$port" "$sentinel_password" sentinel get-master-addr-by-name "$name" 2>/dev/null | sed -n 2p) ||
            { reason="sentinel $port does not answer"; return 1; }
        [[ -n $answer ]] || { reason="sentinel $port names no primary"; return 1; }
        if [[ -z $primary ]]; then primary=$answer
        elif [[ $answer != "$primary" ]]; then reason="sentinels disagree on the primary"; return 1; fi
        master=$(cli "$port" "$sentinel_password" sentinel master "$name" 2>/dev/null) ||
            { reason="sentinel $port does not answer"; return 1; }
        answer=$(field flags <<<"$master")
        [[ $answer == master ]] || { reason="sentinel $port flags the primary $answer"; return 1; }
        answer=$(field num-other-sentinels <<<"$master")
        [[ $answer == $((${#sentinels[@]} - 1)) ]] || { reason="sentinel $port knows $answer other sentinels"; return 1; }
        replicas=$(cli "$port" "$sentinel_password" sentinel replicas "$name" 2>/dev/null | replica_table) ||
            { reason="sentinel $port does not answer"; return 1; }
        for answer in "${live_data[@]}"; do
            [[ $answer == "$primary" ]] && continue
            if ! grep -qx "$answer slave ok $primary" <<<"$replicas"; then
                reason="sentinel $port does not see $answer as a linked replica of $primary"
                return 1
            fi
        done
    done
    [[ $live == *" $primary "* ]] || { reason="the primary $primary does not run"; return 1; }
    role=$(cli "$primary" "$password" role 2>/dev/null | head -1) || role=""
    [[ $role == master ]] || { reason="the primary $primary does not answer as a master"; return 1; }
    for port in "${live_data[@]}"; do
        [[ $port == "$primary" ]] && continue
        info=$(cli "$port" "$password" info replication 2>/dev/null) || { reason="replica $port does not answer"; return 1; }
        if [[ $info != *role:slave* || $info != *master_port:$primary* || $info != *master_link_status:up* ]]; then
            reason="replica $port is not linked to $primary"
            return 1
        fi
    done
}

# Waits up to SECONDS (default 60) until the setup of DIR is healthy; else shows why and the logs.
wait_healthy() {
    local dir=$1 seconds=${2:-60} reason="" deadline
    deadline=$((SECONDS + seconds))
    until check_healthy "$dir"; do
        if ((SECONDS >= deadline)); then
            say "ERROR: the sentinel setup in $dir is not healthy after ${seconds}s: $reason" >&2
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
    local dir=$1 url userinfo="" seeds port
    name=chatmaster password="" sentinel_password=""
    shift
    while (($#)); do
        case $1 in
            --master-name) (($# >= 2)) || usage; name=$2; shift 2 ;;
            --password) (($# >= 2)) || usage; password=$2; shift 2 ;;
            --sentinel-password) (($# >= 2)) || usage; sentinel_password=$2; shift 2 ;;
            *) usage ;;
        esac
    done
    [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || { say "ERROR: the master name may hold only letters, digits, '.', '_' and '-'" >&2; exit 2; }
    # Sentinel 7.0 writes both passwords into its config unquoted: one with a space or a quote
    # would keep a restarted sentinel from reading it.
    if [[ $password =~ [[:space:]\"\'] || $sentinel_password =~ [[:space:]\"\'] ]]; then
        say "ERROR: the passwords may not hold spaces or quotes (Sentinel does not quote them in its config)" >&2
        exit 2
    fi
    prepare_dir "$dir"
    dir=$(absolute_dir "$dir")
    starting_dir=$dir
    trap on_start_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    say "starting a primary, 2 replicas and 3 sentinels in $dir" >&2
    start_servers "$dir"
    wait_healthy "$dir"
    seeds=""
    for port in "${sentinels[@]}"; do seeds+="${seeds:+,}127.0.0.1:$port"; done
    [[ -n $password ]] && userinfo=":$(url_encode "$password")@"
    url="redis+sentinel://$userinfo$seeds/$name"
    write_env "$dir/env" "REDIS_SENTINEL_URL=$url" "REDIS_SENTINEL_PORTS=${sentinels[*]}" \
        "REDIS_SENTINEL_DATA_PORTS=${data_nodes[*]}" "REDIS_SENTINEL_MASTER_NAME=$name" \
        "REDIS_SENTINEL_PASSWORD=$sentinel_password" "REDIS_SENTINEL_DATA_PASSWORD=$password" \
        "REDIS_SENTINEL_DIR=$dir"
    say "healthy: primary ${data_nodes[0]}, replicas ${data_nodes[*]:1}, sentinels ${sentinels[*]}, in ${SECONDS}s" >&2
    printf '%s\n' "$url"
}

cmd_stop() {
    local dir=$1
    [[ -d $dir ]] || return 0
    dir=$(absolute_dir "$dir")
    stop_servers "$dir" TERM
    rm -rf "$dir"
}

cmd_primary() {
    local port answer
    for port in $(live_ports "$REDIS_SENTINEL_DIR"); do
        [[ " ${sentinels[*]} " == *" $port "* ]] || continue
        answer=$(cli "$port" "$sentinel_password" sentinel get-master-addr-by-name "$name" 2>/dev/null | sed -n 2p) || continue
        [[ -n $answer ]] && { printf '%s\n' "$answer"; return 0; }
    done
    say "ERROR: no sentinel of $REDIS_SENTINEL_DIR answers" >&2
    return 1
}

# Checks that PORT is one of the setup's servers.
known_port() {
    [[ " ${sentinels[*]} ${data_nodes[*]} " == *" $1 "* ]] || { say "ERROR: $1 is not a server of $REDIS_SENTINEL_DIR" >&2; exit 1; }
}

cmd_restart_node() {
    local port=$1
    known_port "$port"
    if [[ -n $(server_pids "$REDIS_SENTINEL_DIR" "$port") ]]; then
        say "ERROR: server $port is running" >&2
        exit 1
    fi
    if [[ " ${sentinels[*]} " == *" $port "* ]]; then
        start_server "$REDIS_SENTINEL_DIR/$port" "$port" "$sentinel_password" --sentinel
        quicken_sentinel "$port"
    else
        start_server "$REDIS_SENTINEL_DIR/$port" "$port" "$password"
    fi
}

(($# >= 2)) || usage
command=$1 dir=$2
shift 2
case $command in
    start) cmd_start "$dir" "$@" ;;
    stop) (($# == 0)) || usage; cmd_stop "$dir" ;;
    wait-healthy) (($# == 0)) || usage; load_env "$dir"; wait_healthy "$REDIS_SENTINEL_DIR" ;;
    primary) (($# == 0)) || usage; load_env "$dir"; cmd_primary ;;
    kill-node) (($# == 1)) || usage; load_env "$dir"; known_port "$1"; stop_servers "$REDIS_SENTINEL_DIR" KILL "$1" ;;
    restart-node) (($# == 1)) || usage; load_env "$dir"; cmd_restart_node "$1" ;;
    *) usage ;;
esac
