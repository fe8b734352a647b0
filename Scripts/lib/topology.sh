# Shared pieces of Scripts/redis-cluster.sh and Scripts/redis-sentinel.sh: every server of a
# topology lives in DIR/<port>/ (config file, pidfile, log) and runs daemonized with a process
# title that names its config file, so the servers of DIR can be found, and only they, even after
# a partial start or a restart. Source it after common.sh; don't run it.

# Prints N distinct free TCP ports on 127.0.0.1, one per line (all held open until all are chosen).
free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
sockets = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    sockets.append(s)
for s in sockets:
    print(s.getsockname()[1])
EOF
}

# Prints STRING as a double-quoted redis.conf value.
conf_quote() {
    local value=${1//\\/\\\\}
    value=${value//\"/\\\"}
    printf '"%s"' "$value"
}

# Prints STRING percent-encoded for a URL's userinfo.
url_encode() {
    python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"
}

# Prints DIR as an absolute path (DIR must exist).
absolute_dir() { (cd "$1" && pwd); }

# The lines every server's config starts with: loopback port, its folder, no persistence, a
# daemon with a pidfile and a log, DEBUG allowed, and a process title that names the config file.
# Usage: base_conf PORT NODE_DIR
base_conf() {
    cat <<EOF
port $1
bind 127.0.0.1
dir $(conf_quote "$2")
daemonize yes
pidfile $(conf_quote "$2/redis.pid")
logfile $(conf_quote "$2/redis.log")
proc-title-template "{title} {listen-addr} {server-mode} {config-file}"
EOF
}

# The config lines of a data node: no persistence, DEBUG allowed, full syncs start at once.
data_conf() {
    cat <<'EOF'
save ""
appendonly no
enable-debug-command yes
repl-diskless-sync-delay 0
EOF
}

# Prints the pids of the live servers whose config file lies under DIR (optionally only the one of
# PORT): found by process title, so restarted servers count too and zombies don't.
# Usage: server_pids DIR [PORT]
server_pids() {
    local needle="$1/${2:+$2/}"
    ps -eo pid=,stat=,args= | awk -v needle="$needle" \
        '$2 !~ /^Z/ && $3 ~ /(^|\/)redis-server$/ && index($0, needle) { print $1 }'
}

# Runs redis-cli against 127.0.0.1:PORT with PASSWORD (may be empty) passed through the
# environment, never on the command line; each call is bounded to 3 s.
# Usage: cli PORT PASSWORD args...
cli() {
    local port=$1 password=$2
    shift 2
    local bound=()
    command -v timeout >/dev/null 2>&1 && bound=(timeout 3)
    if [[ -n $password ]]; then
        REDISCLI_AUTH=$password "${bound[@]}" redis-cli -h 127.0.0.1 -p "$port" "$@"
    else
        "${bound[@]}" redis-cli -h 127.0.0.1 -p "$port" "$@"
    fi
}

# Starts the server of NODE_DIR (its redis.conf, extra arguments after it, e.g. --sentinel) and
# waits up to 10 s until it answers PING. On failure prints the end of its log and returns 1.
# Usage: start_server NODE_DIR PORT PASSWORD [args...]
start_server() {
    local node_dir=$1 port=$2 password=$3 tries=0
    shift 3
    if ! redis-server "$node_dir/redis.conf" "$@" >>"$node_dir/redis.log" 2>&1; then
        say "redis-server on port $port did not start; the end of its log:" >&2
        tail -20 "$node_dir/redis.log" >&2 || true
        return 1
    fi
    until [[ $(cli "$port" "$password" ping 2>/dev/null) == PONG ]]; do
        tries=$((tries + 1))
        if ((tries > 100)) || [[ -z $(server_pids "$(dirname "$node_dir")" "$port") ]]; then
            say "redis-server on port $port does not answer; the end of its log:" >&2
            tail -20 "$node_dir/redis.log" >&2 || true
            return 1
        fi
        sleep 0.1
    done
}

# Sends SIGNAL to the servers of DIR (optionally only PORT's) and waits up to 10 s until they are
# gone; those still there get SIGKILL. Returns 1 if one survives that too.
# Usage: stop_servers DIR SIGNAL [PORT]
stop_servers() {
    local dir=$1 signal=$2 port=${3:-} pids tries=0
    pids=$(server_pids "$dir" "$port")
    [[ -z $pids ]] && return 0
    kill "-$signal" $pids 2>/dev/null || true
    while [[ -n $(server_pids "$dir" "$port") ]]; do
        tries=$((tries + 1))
        if ((tries == 100)); then
            say "servers of $dir did not exit on SIG$signal; sending SIGKILL" >&2
            kill -KILL $(server_pids "$dir" "$port") 2>/dev/null || true
        elif ((tries > 200)); then
            say "ERROR: servers still running: $(server_pids "$dir" "$port" | paste -sd' ')" >&2
            return 1
        fi
        sleep 0.05
    done
}

# Prints the ports of DIR's servers that run now (a folder per port, a live process each).
live_ports() {
    local dir=$1 node
    for node in "$dir"/*/; do
        node=$(basename "$node")
        [[ $node =~ ^[0-9]+$ ]] || continue
        if [[ -n $(server_pids "$dir" "$node") ]]; then printf '%s\n' "$node"; fi
    done
}

# Writes a sourceable file of `export NAME=value` lines, readable by its owner only.
# Usage: write_env FILE NAME=VALUE...
write_env() {
    local file=$1 pair
    shift
    : >"$file"
    chmod 600 "$file"
    for pair in "$@"; do
        printf 'export %s=%q\n' "${pair%%=*}" "${pair#*=}" >>"$file"
    done
}

# Prints the end of every server log of DIR on stderr.
dump_logs() {
    local log
    for log in "$1"/*/redis.log; do
        [[ -f $log ]] || continue
        say "--- $log (end) ---" >&2
        tail -15 "$log" >&2
    done
}

# Succeeds when DIR may hold a new topology: missing or empty. Creates it, mode 700.
prepare_dir() {
    local dir=$1
    if [[ -d $dir && -n $(ls -A "$dir") ]]; then
        say "ERROR: $dir is not empty (stop the topology there first)" >&2
        return 1
    fi
    mkdir -p "$dir"
    chmod 700 "$dir"
}
