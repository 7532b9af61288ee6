#!/usr/bin/env bash
# Builds every fuzz target and runs each for a few seconds on its seeds; exits 1 if any crashed.
# Usage: Tests/fuzz/smoke.sh [SECONDS]   (default 10)
set -u -o pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
targets=(HTTPRequest NoiseHandshake NoiseRecord HTTP2 DERPFrame STUN Config RegisterRequest MapRequest Policy)
Tests/fuzz/build.sh "${targets[@]}" >/dev/null || { echo "fuzz build failed"; exit 1; }
failed=()
for target in "${targets[@]}"; do
    log=.build/fuzz/smoke-$target.log
    if Tests/fuzz/run.sh "$target" "$seconds" >"$log" 2>&1; then
        echo "fuzz $target: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') inputs, no crash"
    else
        echo "fuzz $target: CRASHED, see $log and .build/fuzz/artifacts/$target/"
        failed+=("$target")
    fi
done
[ ${#failed[@]} -eq 0 ]
