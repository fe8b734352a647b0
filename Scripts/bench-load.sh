#!/usr/bin/env bash
# A load figure for Examples/ChatServer (not a test): 50 concurrent conversations through the
# HTTP workers for a fixed time on loopback: three workers sharing Redis, one worker with Redis,
# and one worker with the embedded in-process store, so the cost of sharing state is a ratio.
# Prints turns/s and p50/p99 turn latency as a table.
#
#   Scripts/bench-load.sh                                  # 50 conversations, 10 s per setup
#   Scripts/bench-load.sh --conversations 20 --seconds 5   # extra arguments go to the driver
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh

ensure_base_packages
command -v swift >/dev/null || { say "swift is not on PATH"; exit 1; }

say "building Examples/ChatServer (release)"
chat_server_bin=$(build_chat_server)

say "driving the load (Examples/ChatServer/Bench/load.py)"
exec python3 Examples/ChatServer/Bench/load.py --bin "$chat_server_bin" "$@"
