#!/usr/bin/env bash
# Builds and runs the unit tests under a sanitizer, in a build folder of its own.
# Usage: Tests/fuzz/sanitizers.sh address|thread [swift test arguments, e.g. --filter HSHTTPTests]
# Each sanitizer is a full rebuild (.build/address or .build/thread); expect several minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
sanitizer=${1:?usage: Tests/fuzz/sanitizers.sh address|thread [swift test arguments]}
shift
case "$sanitizer" in
    address)
        suppressions=$PWD/Tests/fuzz/asan-suppressions.txt
        export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:suppressions=$suppressions}
        ;;
    thread) export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=0} ;;
    *) echo "unknown sanitizer '$sanitizer': use address or thread" >&2; exit 2 ;;
esac
# The Swift runtime's crash handler would interleave with the sanitizer's report.
export SWIFT_BACKTRACE=enable=no
scratch=.build/$sanitizer
swift build --build-tests --scratch-path "$scratch" --sanitize="$sanitizer"
swift test --skip-build --scratch-path "$scratch" --sanitize="$sanitizer" "$@"
