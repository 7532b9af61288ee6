#!/usr/bin/env bash
# Usage: Tests/run-all.sh      (as root, on Debian 12 with Swift at /opt/swift or on PATH)
#
# Runs the whole test suite on a fresh machine: installs the Debian packages and Python modules
# the build and the tests need, fetches the real Tailscale clients and the Python REST client
# hsapi-client (Tests/e2e/setup-hsapi-client.sh), builds everything, runs
# `swift test` with HS_REQUIRE_INTEROP=1 (interop tests may not skip), the load smoke test
# (Tests/bench/smoke.sh), then the end-to-end tests against the debug build of `headscale`.
# All parts always run; exits 1 if any failed.
# Knobs: E2E_SKIP=1 skips the end-to-end tests; the knobs of Tests/e2e/run.sh and lib.sh apply.
# FUZZ_SMOKE=SECONDS also builds the fuzz targets (ASan, a few minutes) and runs each for SECONDS.
set -u -o pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 1
export DEBIAN_FRONTEND=noninteractive

APT_PACKAGES=(libsqlite3-dev libssl-dev libyaml-dev libnghttp2-dev libzstd-dev libsodium-dev pkg-config
    openssl curl iproute2 util-linux python3 python3-pip ca-certificates pebble)

step() { printf '\n==== %s: %s ====\n' "$(date +%H:%M:%S)" "$*"; }

die() {
    echo "run-all: $*"
    exit 1
}

install_apt_packages() {
    local missing=() package
    for package in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "all Debian packages present"
        return
    fi
    echo "installing ${missing[*]}"
    apt-get update -qq || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
        die "apt-get install ${missing[*]} failed"
}

# The interop tests drive a Python Noise (noiseprotocol) and HTTP/2 (h2) peer; the OIDC tests log in
# through oidc-provider-mock.
install_python_modules() {
    if python3 -c 'import noise, h2, oidc_provider_mock' 2>/dev/null; then
        echo "Python modules noise, h2 and oidc_provider_mock present"
        return
    fi
    python3 -m pip install --quiet noiseprotocol h2 oidc-provider-mock 2>/dev/null ||
        python3 -m pip install --quiet --break-system-packages noiseprotocol h2 oidc-provider-mock ||
        die "pip install noiseprotocol h2 oidc-provider-mock failed"
    python3 -c 'import noise, h2, oidc_provider_mock' ||
        die "noiseprotocol/h2/oidc-provider-mock installed but python3 cannot import them"
}

find_swift() {
    if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then
        export PATH="$PATH:/opt/swift/usr/bin"
    fi
    command -v swift >/dev/null || die "swift not found on PATH or at /opt/swift/usr/bin"
    swift --version 2>&1 | head -n 1
}

main() {
    [ "$(id -u)" = 0 ] || die "must run as root (apt-get, network namespaces)"
    step "Debian packages"
    install_apt_packages
    step "Python modules"
    install_python_modules
    step "Tailscale clients"
    Tests/e2e/fetch-clients.sh || die "Tests/e2e/fetch-clients.sh failed"
    step "hsapi-client (Python REST client for the hsapi-client end-to-end test)"
    # Not fatal here: without it the end-to-end test hsapi-client fails and names this step.
    Tests/e2e/setup-hsapi-client.sh || echo "run-all: Tests/e2e/setup-hsapi-client.sh failed"
    step "swift build --build-tests"
    find_swift
    swift build --build-tests || die "swift build --build-tests failed"

    local unit_status=0 e2e_status=0 smoke_status=0
    step "swift test (HS_REQUIRE_INTEROP=1)"
    HS_REQUIRE_INTEROP=1 swift test --skip-build || unit_status=$?
    step "load smoke test (200 simulated clients, every delta checked)"
    Tests/bench/smoke.sh "$(swift build --show-bin-path)" || smoke_status=$?
    if [ "${E2E_SKIP:-0}" = 1 ]; then
        step "end-to-end tests skipped (E2E_SKIP=1)"
    else
        step "end-to-end tests"
        HEADSCALE_BIN="$(swift build --show-bin-path)/headscale" E2E_SKIP_FETCH=1 Tests/e2e/run.sh || e2e_status=$?
    fi

    local fuzz_status=0
    if [ -n "${FUZZ_SMOKE:-}" ]; then
        step "fuzz smoke run (${FUZZ_SMOKE} s per target)"
        Tests/fuzz/smoke.sh "$FUZZ_SMOKE" || fuzz_status=$?
    fi

    step "summary"
    [ -n "${FUZZ_SMOKE:-}" ] && echo "fuzz smoke: $([ "$fuzz_status" = 0 ] && echo passed || echo "FAILED (status $fuzz_status)")"
    echo "swift test: $([ "$unit_status" = 0 ] && echo passed || echo "FAILED (status $unit_status)")"
    echo "end-to-end: $([ "$e2e_status" = 0 ] && echo passed || echo "FAILED (status $e2e_status)")"
    echo "load smoke: $([ "$smoke_status" = 0 ] && echo passed || echo "FAILED (status $smoke_status)")"
    [ "$unit_status" = 0 ] && [ "$e2e_status" = 0 ] && [ "$smoke_status" = 0 ] && [ "$fuzz_status" = 0 ]
}

main "$@"
