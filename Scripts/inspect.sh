#!/usr/bin/env bash
# Shows one chat session raw, straight from Redis with redis-cli: the key's TYPE, LLEN, TTL, and
# every list entry newest first (index 0 is the newest), pretty-printed when it is JSON.
# It is the low-level twin of `chat-memory show`, for checking what is really stored.
#
#   Scripts/inspect.sh <session> [redis-cli args]
#   Scripts/inspect.sh user-42
#   REDIS_URL=redis://:secret@10.0.0.5:6379/2 Scripts/inspect.sh 'user 42/ü'
#   CHAT_PREFIX=myapp:chat: Scripts/inspect.sh user-42 --tls
#
# The server comes from REDIS_URL (default redis://127.0.0.1:6379), passed as `redis-cli -u`; the
# key is ${CHAT_PREFIX:-chat:}<session>. The session id is passed as one argument, so any UTF-8
# (spaces, newlines, '*', '{') works. Extra arguments go to redis-cli before the command.
set -euo pipefail

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    [[ $# -lt 1 ]] && exit 64 || exit 0
fi
command -v redis-cli >/dev/null || { echo "inspect.sh: redis-cli is not installed (apt-get install redis-tools)" >&2; exit 1; }

session=$1; shift
key="${CHAT_PREFIX:-chat:}$session"
url="${REDIS_URL:-redis://127.0.0.1:6379}"

rcli() { redis-cli -u "$url" --no-auth-warning "$@"; }
extra=("$@")

type=$(rcli "${extra[@]}" --raw TYPE "$key")
printf 'key:   %q\n' "$key"
printf 'type:  %s\n' "$type"
if [[ $type == none ]]; then echo "(no such key)"; exit 0; fi
if [[ $type != list ]]; then echo "(not a chat session: a chat session is a list)"; exit 1; fi
printf 'llen:  %s\n' "$(rcli "${extra[@]}" --raw LLEN "$key")"
ttl=$(rcli "${extra[@]}" --raw PTTL "$key")
if [[ $ttl == -1 ]]; then echo "ttl:   none (never expires)"; else printf 'ttl:   %s ms\n' "$ttl"; fi
echo "entries, newest first:"

# Formats redis-cli's quoted output (`N) "..."`, one line per entry, bytes escaped C-style).
read -r -d '' formatter <<'PY' || true
import json, re, sys, datetime

def unquote(text):
    out, i = bytearray(), 0
    simple = {"n": 10, "r": 13, "t": 9, "a": 7, "b": 8, '"': 34, "\\": 92}
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "x":
                out.append(int(text[i + 2:i + 4], 16)); i += 4; continue
            out.append(simple.get(n, ord(n))); i += 2; continue
        out += c.encode("utf-8"); i += 1
    return out.decode("utf-8", "replace")

rows = []
for line in sys.stdin:
    match = re.match(r'^\s*\d+\) "(.*)"$', line.rstrip("\n"))
    if match:
        rows.append(unquote(match.group(1)))
for index, raw in enumerate(rows):
    try:
        entry = json.loads(raw)
    except ValueError:
        entry = None
    message = entry.get("message", entry) if isinstance(entry, dict) else None
    if not isinstance(message, dict) or "role" not in message:
        print("[%d] foreign entry (not a chat message): %r" % (index, raw))
        continue
    created = message.get("created_at")
    when = "?"
    if isinstance(created, (int, float)):
        stamp = datetime.datetime.fromtimestamp(created / 1000, datetime.timezone.utc)
        when = stamp.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"
    tokens = ""
    if "tokens" in entry and entry is not message:
        tokens = ", %s tokens (%s)" % (entry["tokens"], entry.get("counter"))
    print("[%d] %s id=%r %s%s" % (index, message.get("role"), message.get("id"), when, tokens))
    print("    " + json.dumps(entry, ensure_ascii=False, indent=2, sort_keys=True).replace("\n", "\n    "))
PY

if command -v python3 >/dev/null; then
    rcli "${extra[@]}" --no-raw LRANGE "$key" 0 -1 | python3 -c "$formatter"
else
    rcli "${extra[@]}" LRANGE "$key" 0 -1
fi
