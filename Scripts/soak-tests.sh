#!/usr/bin/env bash
# Runs the test command's suites N times in a row on a fresh clone of this repository's HEAD,
# the thread-sanitizer pass included, and prints each run's result and time, then a summary
# line "K passed, M failed" (runs, not tests). A flaky test shows up here before CI meets it.
#
#   Scripts/soak-tests.sh [N]            # N runs (default 10) of Scripts/test.sh
#   SOAK_FULL=1 Scripts/soak-tests.sh 3  # every stage each run (examples, hiredis 1.x, TLS, docs)
#
# By default each run skips the stages that build something else rather than run this package's
# suites differently (the example app's scenario, the hiredis 1.x and TLS builds, the docs): the
# first run builds everything else, later runs reuse the clone's builds. Logs stay in the clone's
# soak-logs/ folder (printed at the end); the clone is kept.
set -uo pipefail
cd "$(dirname "$0")/.."
source Scripts/lib/common.sh
runs=${1:-10}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { say "usage: $0 [runs >= 1]"; exit 64; }

clone=$(mktemp -d "${TMPDIR:-/tmp}/rcm-soak.XXXXXX")
git clone -q "$PWD" "$clone" || { say "cannot clone into $clone"; exit 1; }
mkdir -p "$clone/soak-logs"
say "soaking $(git -C "$clone" rev-parse --short HEAD) in $clone: $runs runs"
skips=(SKIP_EXAMPLES=1 SKIP_HIREDIS1=1 SKIP_TLS=1 SKIP_DOCS=1 SKIP_SERVERS=1)
[[ ${SOAK_FULL:-0} == 1 ]] && skips=()

passed=0 failed=0
for ((run = 1; run <= runs; run++)); do
    log="$clone/soak-logs/run-$run.log"
    start=$(date +%s)
    (cd "$clone" && env "${skips[@]}" Scripts/test.sh) >"$log" 2>&1
    status=$?
    seconds=$(($(date +%s) - start))
    if ((status == 0)); then
        passed=$((passed + 1))
        say "run $run: green in ${seconds}s"
    else
        failed=$((failed + 1))
        say "run $run: RED (exit $status) in ${seconds}s; issues:"
        grep -E '✘ Test .* (recorded an issue|failed after)|error:' "$log" | head -20 | sed 's/^/    /'
    fi
done
say "logs: $clone/soak-logs"
echo "$passed passed, $failed failed"
((failed == 0))
