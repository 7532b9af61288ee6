#!/usr/bin/env bash
# Runs one fuzz target for a number of seconds.
# Usage: Tests/fuzz/run.sh TARGET SECONDS [libFuzzer flags...]
#   TARGET: HTTPRequest NoiseHandshake NoiseRecord HTTP2 DERPFrame STUN Config RegisterRequest MapRequest Policy
# Seeds come from Tests/fuzz/corpus/TARGET and stay untouched; inputs the run finds go to
# .build/fuzz/corpus/TARGET, and crashing inputs to .build/fuzz/artifacts/TARGET/.
# Exits non-zero when the target crashed; replay a crash with: .build/fuzz/debug/FuzzTARGET CRASH_FILE
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${1:?usage: Tests/fuzz/run.sh TARGET SECONDS [libFuzzer flags...]}
seconds=${2:?usage: Tests/fuzz/run.sh TARGET SECONDS [libFuzzer flags...]}
shift 2
Tests/fuzz/build.sh "$target" >/dev/null
work=.build/fuzz/corpus/$target
artifacts=.build/fuzz/artifacts/$target
mkdir -p "$work" "$artifacts"
# The Swift runtime's own crash handler would race ASan's report; libFuzzer's is enough.
export SWIFT_BACKTRACE=enable=no
exec ".build/fuzz/debug/Fuzz$target" "$work" "Tests/fuzz/corpus/$target" \
    -max_total_time="$seconds" -timeout=10 -detect_leaks=0 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$@"
