#!/usr/bin/env bash
# Builds every fuzz target with libFuzzer and AddressSanitizer into .build/fuzz.
# Usage: Tests/fuzz/build.sh [TARGET...]   (names without the Fuzz prefix; default: all)
set -euo pipefail
cd "$(dirname "$0")/../.."
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(HTTPRequest NoiseHandshake NoiseRecord HTTP2 DERPFrame STUN Config RegisterRequest MapRequest Policy)
fi
flags=(
    -c debug --scratch-path .build/fuzz
    # What -sanitize=fuzzer instruments, without linking libFuzzer into the build's other
    # executables (the migration embedder), whose main would clash with it.
    -Xswiftc -sanitize=address
    -Xswiftc -sanitize-coverage=edge,trace-cmp,indirect-calls,inline-8bit-counters,pc-table
    # ld.gold stops with an internal error on the fuzzer runtime; lld links it.
    -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld
)
for target in "${targets[@]}"; do
    HS_FUZZ=1 swift build "${flags[@]}" --product "Fuzz$target" 2>&1 | grep -v "Cannot export local symbol" || true
    test -x ".build/fuzz/debug/Fuzz$target" || { echo "build of Fuzz$target failed" >&2; exit 1; }
done
