#!/usr/bin/env bash
# Usage: Tests/e2e/setup-hsapi-client.sh      (needs PyPI; run before the network namespace tests)
#
# Installs the third-party Headscale REST client hsapi-client 0.9.9 from PyPI into a virtual
# environment at $HSAPI_VENV (default /var/cache/headscale-e2e/hsapi-venv), for the test
# hsapi-client.sh. hsapi-client 0.9.9 declares Python >= 3.11, but its module model.py splits an
# f-string replacement field over two lines, which only Python 3.12 and later parse. So this
# script looks for Python 3.12 or later: $HSAPI_PYTHON, python3.12/3.13/3.14 on PATH, python3 when it
# is new enough, then the pyenv builds under /root/.pyenv/versions. Debian 12's own python3 is 3.11.
# Exits 1 with the reason when no such Python exists or the install fails; an intact venv is reused.
set -u -o pipefail

VERSION=0.9.9
VENV=${HSAPI_VENV:-/var/cache/headscale-e2e/hsapi-venv}

die() {
    echo "setup-hsapi-client: $*" >&2
    exit 1
}

is_new_enough() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null
}

find_python() {
    local candidate
    for candidate in "${HSAPI_PYTHON:-}" python3.12 python3.13 python3.14 python3 \
        /root/.pyenv/versions/3.12*/bin/python3 /root/.pyenv/versions/3.13*/bin/python3; do
        [ -n "$candidate" ] || continue
        candidate=$(command -v "$candidate" 2>/dev/null) || continue
        if is_new_enough "$candidate"; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

installed() {
    [ -x "$VENV/bin/python" ] &&
        "$VENV/bin/python" -c "import importlib.metadata as m, hsapi_client; assert m.version('hsapi-client') == '$VERSION'" \
            2>/dev/null
}

main() {
    if installed; then
        echo "hsapi-client $VERSION present in $VENV"
        return 0
    fi
    local python
    python=$(find_python) ||
        die "no Python 3.12 or later found (tried HSAPI_PYTHON, python3.12, python3.13, python3.14, python3, /root/.pyenv/versions/3.1[23]*); install one or set HSAPI_PYTHON"
    echo "creating $VENV with $python ($("$python" --version 2>&1))"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$python" -m venv "$VENV" || die "'$python -m venv $VENV' failed"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "hsapi-client==$VERSION" ||
        die "pip install hsapi-client==$VERSION into $VENV failed"
    installed || die "hsapi-client $VERSION installed into $VENV but does not import"
    echo "hsapi-client $VERSION installed in $VENV"
}

main "$@"
