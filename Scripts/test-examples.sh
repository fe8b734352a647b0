#!/usr/bin/env bash
# The examples' scenarios, end to end: builds each example (debug, in Examples/<name>/.build: the
# cases test behaviour, not speed, and a debug build takes a fraction of the time of a release
# one) and runs its Tests/scaling_test.py, which starts its own redis-server and workers and
# always stops them:
#   - Examples/ChatServer (Hummingbird 2): the scaling scenario and the hardening cases;
#   - Examples/VaporChat (Vapor 4): turns over three workers, retries, bad input, SIGTERM.
# Each runner prints `N passed, N failed`; the last line adds them up (a build that fails counts
# as one failed case). Exits non-zero when a build or a case fails; both examples run either way.
#
#   Scripts/test-examples.sh              # every case of both examples
#   Scripts/test-examples.sh -k redis     # Hummingbird cases whose name contains "redis" (the Vapor scenario runs whole)
set -euo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh

ensure_base_packages
command -v swift >/dev/null || { say "swift is not on PATH"; exit 1; }

passed=0 failed=0
output=$(mktemp "${TMPDIR:-/tmp}/test-examples.XXXXXX")
trap 'rm -f "$output"' EXIT

# Runs a scenario (its runner's arguments follow) and adds its `N passed, N failed` to the totals;
# a runner that fails without that line counts as one failed case.
run_scenario() {
    local status counts
    set +e
    python3 "$@" 2>&1 | tee "$output"
    status=${PIPESTATUS[0]}
    set -e
    counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$output" | tail -1 || true)
    if [[ -n $counts ]]; then
        passed=$((passed + $(awk '{print $1}' <<<"$counts")))
        failed=$((failed + $(awk '{print $3}' <<<"$counts")))
    fi
    if [[ $status != 0 && ( -z $counts || $(awk '{print $3}' <<<"$counts") == 0 ) ]]; then
        failed=$((failed + 1))
    fi
}

say "building Examples/ChatServer (debug; the first build takes minutes)"
if chat_server_bin=$(build_chat_server debug); then
    say "running the Hummingbird scaling scenario"
    run_scenario Examples/ChatServer/Tests/scaling_test.py --bin "$chat_server_bin" "$@"
else
    failed=$((failed + 1))
fi

say "building Examples/VaporChat (debug; the first build takes minutes)"
if vapor_chat_bin=$(build_vapor_chat debug); then
    say "running the Vapor scenario"
    run_scenario Examples/VaporChat/Tests/scaling_test.py --bin "$vapor_chat_bin"
else
    failed=$((failed + 1))
fi

echo "examples: $passed passed, $failed failed"
((failed == 0))
