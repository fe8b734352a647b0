#!/usr/bin/env bash
# The scaling scenario of Examples/ChatServer, end to end: builds the example (debug, in
# Examples/ChatServer/.build: the cases test behaviour, not speed, and a debug build takes a
# fraction of the time of a release one) and runs Examples/ChatServer/Tests/scaling_test.py, which
# starts its own redis-server and chat-server workers for every case and always stops them.
# Ends with the runner's `N passed, N failed` line; exits non-zero when a case fails.
#
#   Scripts/test-examples.sh              # every case
#   Scripts/test-examples.sh -k redis     # only cases whose name contains "redis"
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh

ensure_base_packages
command -v swift >/dev/null || { say "swift is not on PATH"; exit 1; }

say "building Examples/ChatServer (debug; the first build takes minutes)"
chat_server_bin=$(build_chat_server debug)

say "running the scaling scenario"
exec python3 Examples/ChatServer/Tests/scaling_test.py --bin "$chat_server_bin" "$@"
