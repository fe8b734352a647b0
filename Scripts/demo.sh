#!/usr/bin/env bash
# The multi-worker demo: one conversation whose turns go round robin across three chat-server
# worker processes that share their memory through Redis, with proof at every step that the
# answering worker saw every earlier turn; then a worker and Redis itself die with SIGKILL and the
# conversation carries on intact.
#
#   Scripts/demo.sh            # installs what is missing, builds, runs; exits 1 if a proof fails
#   Scripts/demo.sh --cluster  # the same story on a private Redis Cluster; the session's primary dies
#   Scripts/demo.sh --sentinel # the same on a Sentinel group (a primary, 2 replicas, 3 sentinels)
#
# It starts a private redis-server (append-only file, fsync on every write) and three workers on
# free loopback ports, and stops everything it started when it ends. With --cluster or --sentinel
# only REDIS_URL changes, plus CHAT_REPLICAS=1 (Scripts/lib/demo-topology.sh tells that story).
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh

mode=single
case ${1:-} in
    "") ;;
    --cluster) mode=cluster ;;
    --sentinel) mode=sentinel ;;
    *) echo "usage: Scripts/demo.sh [--cluster | --sentinel]" >&2; exit 2 ;;
esac
[[ $mode == single ]] || source Scripts/lib/demo-topology.sh

REDIS_ARGS=(--appendonly yes --appendfsync always)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/chat-demo.XXXXXX")
names=(w1 w2 w3); ports=(); pids=()
failures=0; proofs=0; turn_no=0; said=()
worker_env=(); retry_503=0; last_attempts=0
REDIS_CLUSTER_DIR=; REDIS_SENTINEL_DIR=   # set by start_topology; never ones inherited from the environment
session="demo-$(date +%H%M%S)-$$"

cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [[ $mode == single ]]; then stop_redis; else stop_topology; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }
holds() { "$@" && echo 0 || echo 1; }   # proof "$(holds test ...)" "text"
proof() {   # proof <ok 0|1> <text>
    proofs=$((proofs + 1))
    if [[ $1 == 0 ]]; then printf '   ✓ %s\n' "$2"; else printf '   ✗ %s\n' "$2"; failures=$((failures + 1)); fi
}

step "1/7 what is needed"
ensure_base_packages
ensure_packages "curl:curl"
command -v swift >/dev/null || { say "swift is not on PATH"; exit 1; }

step "2/7 building Examples/ChatServer (release; the first build takes a few minutes)"
server_bin=$(build_chat_server)
cli_bin=$(build_chat_memory_cli) || cli_bin=""
echo "   chat-server: $server_bin"
echo "   chat-memory: ${cli_bin:-not available (see the CLI step)}"

if [[ $mode == single ]]; then
    step "3/7 redis-server with append-only file (appendfsync always) and three workers"
    start_redis "${REDIS_ARGS[@]}"
else
    step "3/7 a private Redis $mode and three workers"
    start_topology
fi
start_worker() {   # start_worker <index>: (re)starts worker names[index] on a free port
    local i=$1
    ports[i]=${ports[i]:-$(free_port)}
    env ${worker_env[@]+"${worker_env[@]}"} WORKER_NAME=${names[i]} PORT=${ports[i]} REDIS_URL=$REDIS_URL LOG_LEVEL=warning \
        "$server_bin" --store redis >>"$WORK/${names[i]}.log" 2>&1 &
    pids[i]=$!
    local tries=0
    until curl -fsS -m 1 "http://127.0.0.1:${ports[i]}/health" >/dev/null 2>&1; do
        tries=$((tries + 1))
        if ((tries > 100)) || ! kill -0 "${pids[i]}" 2>/dev/null; then
            say "worker ${names[i]} did not start; its log:"; cat "$WORK/${names[i]}.log" >&2; exit 1
        fi
        sleep 0.1
    done
    echo "   ${names[i]} pid ${pids[i]} on 127.0.0.1:${ports[i]}"
}
for i in 0 1 2; do start_worker "$i"; done

# Checks one HTTP answer against what the turn must show; prints a line per turn.
read -r -d '' turn_checker <<'PY' || true
import json, re, sys
status, headers_path, body, worker, earlier_json, content, turn = sys.argv[1:8]
earlier = json.loads(earlier_json)
headers = {}
for line in open(headers_path, encoding="utf-8", errors="replace"):
    if ":" in line:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
try:
    payload = json.loads(body)
except ValueError:
    payload = {}
answered = headers.get("x-worker", "?")
if status != "200":
    print(f"   ✗ turn {turn:>2} -> {answered}: HTTP {status} {payload.get('error', body)}")
    sys.exit(1)
reply = payload["assistant"]["content"]
quoted = re.findall(r"«([^»]*)»", reply)
ok = answered == worker and payload["remembered"] == 2 * len(earlier) and quoted == earlier + [content]
mark = "✓" if ok else "✗"
seen = "the first turn" if not earlier else f"all {len(earlier)} earlier turn{'s' if len(earlier) > 1 else ''}" if ok else f"{len(earlier)} earlier turns expected"
print(f"   {mark} turn {turn:>2} answered by {answered}, which saw {payload['remembered']} earlier messages ({seen})")
print(f"       assistant: {reply}")
if not ok:
    print(f"       expected {worker} to see {2 * len(earlier)} earlier messages quoting {earlier}")
sys.exit(0 if ok else 1)
PY

# turn <worker index> <content> [message id]: sends one turn, checks the proof, remembers the turn.
# While retry_503 > 0, a 503 is sent again (same message id) after a second, up to that many times.
turn() {
    local i=$1 content=$2 id=${3:-}
    [[ -n $id ]] || { turn_no=$((turn_no + 1)); id="m$turn_no"; }
    local body response status earlier started
    body=$(python3 -c 'import json,sys; print(json.dumps({"content": sys.argv[1], "id": sys.argv[2]}))' "$content" "$id")
    last_attempts=0
    while :; do
        last_attempts=$((last_attempts + 1))
        rm -f "$WORK/headers"
        started=$(date +%s%N)
        response=$(curl -sS -m 15 -D "$WORK/headers" -H 'Content-Type: application/json' -d "$body" \
            -w '\n%{http_code}' "http://127.0.0.1:${ports[i]}/sessions/$session/messages" 2>&1) || true
        status=${response##*$'\n'}
        [[ $status == 503 ]] && ((last_attempts <= retry_503)) || break
        printf '   … %s attempt %d: HTTP 503 %s after %d ms; again in 1 s with the same id (%s)\n' "${names[i]}" "$last_attempts" \
            "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["error"]["code"])' "${response%$'\n'*}" 2>/dev/null || echo '?')" \
            $((($(date +%s%N) - started) / 1000000)) "$id"
        sleep 1
    done
    earlier=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' ${said[@]+"${said[@]}"})
    proofs=$((proofs + 1))
    python3 -c "$turn_checker" "$status" "$WORK/headers" "${response%$'\n'*}" "${names[i]}" "$earlier" "$content" "${id#m}" ||
        failures=$((failures + 1))
    said+=("$content")
}

# history_proof <worker index>: the whole conversation, read through that worker, is complete.
history_proof() {
    local history_check total unique order expected
    history_check=$(curl -sS -m 10 "http://127.0.0.1:${ports[$1]}/sessions/$session/messages" | python3 -c '
import json, sys
messages = json.load(sys.stdin)["messages"]
ids = [m["id"] for m in messages]
pairs = all(u["role"] == "user" and a["id"] == u["id"] + ":reply" for u, a in zip(messages[::2], messages[1::2]))
print(len(messages), len(set(ids)), "ok" if pairs and len(messages) % 2 == 0 else "broken")')
    read -r total unique order <<<"$history_check"
    expected=$((2 * ${#said[@]}))
    proof "$(holds test "$total" = "$expected" -a "$unique" = "$total" -a "$order" = ok)" "$total messages, $unique distinct, user/assistant pairs in order (expected $expected)"
}

# Prints the verdict; exits 1 if a proof failed.
finish() {
    echo
    if ((failures == 0)); then
        say "all $proofs proofs passed"
    else
        say "$failures of $proofs proofs FAILED"
        exit 1
    fi
    exit 0
}

step "4/7 one conversation ($session), turns round robin across w1, w2, w3"
turn 0 "Hi, I am Ada."
turn 1 "I live in Oslo."
turn 2 "I write Swift for a living."
turn 0 "My cat is called Pixel."
turn 1 "I am learning Norwegian."
turn 2 "What do you remember about me?"

if [[ $mode != single ]]; then topology_story; finish; fi

step "5/7 the session as stored"
echo "-- redis-cli (Scripts/inspect.sh $session), entries newest first:"
REDIS_URL=$REDIS_URL Scripts/inspect.sh "$session" | grep -E '^(key|type|llen|\[)' | head -16
llen=$(redis-cli -p "$REDIS_PORT" LLEN "chat:$session")
proof "$(holds test "$llen" = 12)" "Redis holds 12 messages (6 turns x user + assistant): $llen"
if [[ -n $cli_bin ]]; then
    echo "-- chat-memory show $session:"
    REDIS_URL=$REDIS_URL "$cli_bin" show "$session" | head -16
else
    # CLI-CHECK: `chat-memory show <session>` could not be built; shown through redis-cli above only.
    echo "-- chat-memory: not built (CLI-CHECK), skipped"
fi

step "6/7 failures: SIGKILL a worker, SIGKILL Redis, restart it on the same port and folder"
kill -9 "${pids[1]}"; wait "${pids[1]}" 2>/dev/null || true
echo "   w2 (pid ${pids[1]}) killed with SIGKILL"
if curl -s -m 2 "http://127.0.0.1:${ports[1]}/health" >/dev/null 2>&1; then proof 1 "w2 still answers"; else proof 0 "w2 is gone (connection refused)"; fi
turn 0 "Do you still know where I live?"
turn 2 "And my cat's name?"

kill -9 "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true
echo "   redis-server (pid $REDIS_PID) killed with SIGKILL"
turn_no=$((turn_no + 1)); down_id="m$turn_no"
down_body=$(python3 -c 'import json,sys; print(json.dumps({"content": sys.argv[1], "id": sys.argv[2]}))' "Are you still there?" "$down_id")
started=$(date +%s%N)
down=$(curl -sS -m 15 -H 'Content-Type: application/json' -d "$down_body" -w '\n%{http_code}' \
    "http://127.0.0.1:${ports[0]}/sessions/$session/messages" 2>&1) || true
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
echo "   w1 while Redis is down: HTTP ${down##*$'\n'} in ${elapsed_ms} ms: ${down%$'\n'*}"
proof "$(holds test "${down##*$'\n'}" = 503 -a "$elapsed_ms" -lt 5000)" "w1 answers 503 at once instead of hanging"

restart_redis "${REDIS_ARGS[@]}"
echo "   redis-server restarted on 127.0.0.1:$REDIS_PORT (pid $REDIS_PID), reloaded its append-only file"
echo "   the client retries turn ${down_id#m} with the same message id ($down_id), on w3"
turn 2 "Are you still there?" "$down_id"
turn 0 "Thanks, that is all."

step "7/7 the whole conversation after both crashes"
history_proof 2
if [[ -n $cli_bin ]]; then
    echo "-- chat-memory window $session --tokens 120 (what a model with a small budget would get):"
    REDIS_URL=$REDIS_URL "$cli_bin" window "$session" --tokens 120 | head -12
fi

finish
