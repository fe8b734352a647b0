#!/usr/bin/env bash
# Differential fuzzing of the fast entry reader (EntryJSON) against Foundation's JSONDecoder:
# runs the test `agreesWithFoundationOnFuzzedInput` in a release build with a million cases.
# Prints the case count, the seed and the rate; a disagreement fails the run and prints the
# input (escaped) with the seed that replays it. Needs no Redis.
#
#   Scripts/fuzz-entry-json.sh [cases] [seed]     (defaults: 1000000 cases, a random seed;
#                                                 FUZZ_CASES and FUZZ_SEED work too)
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_CASES=${1:-${FUZZ_CASES:-1000000}}
FUZZ_SEED=${2:-${FUZZ_SEED:-$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')}}
export FUZZ_CASES FUZZ_SEED
printf '[%s] %s cases, seed %s\n' "$(basename "$0")" "$FUZZ_CASES" "$FUZZ_SEED"

# Its own build folder: a release build with testable imports, apart from the benchmarks' builds.
flags=(-c release --scratch-path .build-fuzz -Xswiftc -enable-testing)
swift build "${flags[@]}" --build-tests >&2
swift test "${flags[@]}" --skip-build --filter 'EntryJSONTests/agreesWithFoundationOnFuzzedInput'
