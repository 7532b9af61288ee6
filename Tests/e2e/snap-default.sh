#!/usr/bin/env bash
# Usage: Tests/e2e/snap-default.sh      (as root)
#
# The snap's install hook and default configuration, relocated under a scratch root, inside a
# fresh loopback-only network namespace:
#   the install hook creates internal/ with mode 0700 and installs config.yaml (0600); a second
#   run keeps an operator's edit of config.yaml;
#   `headscale serve` starts on the default config with no network but loopback;
#   every TCP and UDP socket it listens on is bound to 127.0.0.1;
#   the Noise key and the database are 0600, internal/ stays 0700, the unix socket is 0770,
#   and `headscale users list` works over that socket.
# Prints PASS or "FAIL: ... at stage ...", exits 0 or 1.
# shellcheck disable=SC2317 # functions passed to e2e_wait run indirectly
set -u -o pipefail

# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init snap-default "$@"

REPO=$(cd "$E2E_DIR/../.." && pwd)
ROOT=$E2E_WORK/root
export SNAP=$ROOT/snap SNAP_COMMON=$ROOT/common

mode_of() { stat -c '%a' "$1"; }

expect_mode() {
    local path=$1 expected=$2 actual
    actual=$(mode_of "$path" 2>/dev/null) || e2e_fail "$path is missing"
    [ "$actual" = "$expected" ] || e2e_fail "$path has mode $actual, expected $expected"
}

e2e_stage "install hook"
mkdir -p "$SNAP/etc" "$SNAP_COMMON"
# The snap stages these two files under etc/; paths inside point at the real snap locations.
sed -e "s|/var/snap/headscale/common|$SNAP_COMMON|g" -e "s|/snap/headscale/current|$SNAP|g" \
    "$REPO/snap/local/default-config.yaml" >"$SNAP/etc/default-config.yaml"
cp "$REPO/snap/local/derp-map.yaml" "$SNAP/etc/derp-map.yaml"
sh "$REPO/snap/hooks/install" || e2e_fail "the install hook failed"
expect_mode "$SNAP_COMMON/internal" 700
expect_mode "$SNAP_COMMON/config.yaml" 600
echo "# edited by the operator" >>"$SNAP_COMMON/config.yaml"
sh "$REPO/snap/hooks/install" || e2e_fail "the install hook failed on its second run"
grep -q "edited by the operator" "$SNAP_COMMON/config.yaml" || e2e_fail "a second install hook run replaced the operator's config"

e2e_stage "server start on the default config"
export HEADSCALE_CONFIG=$SNAP_COMMON/config.yaml
e2e_spawn headscale "$E2E_WORK/server.log" -- "$HEADSCALE_BIN" serve
SERVER_PID=$E2E_LAST_PID
server_healthy() { curl -sf -m 2 http://127.0.0.1:8080/health >/dev/null; }
e2e_wait "$E2E_TIMEOUT" "$SERVER_PID" server_healthy ||
    e2e_fail "the server did not answer GET /health on 127.0.0.1:8080 (log: $(tail -n 3 "$E2E_WORK/server.log" | tr '\n' ' '))"

e2e_stage "listening sockets are on loopback"
ss -Hltnup >"$E2E_WORK/sockets.txt" 2>&1 || e2e_fail "'ss -ltnup' failed"
grep -q "pid=$SERVER_PID," "$E2E_WORK/sockets.txt" || e2e_fail "ss shows no socket of the server (pid $SERVER_PID)"
open=$(grep "pid=$SERVER_PID," "$E2E_WORK/sockets.txt" | awk '{ print $5 }' | grep -v '^127\.0\.0\.1:' || true)
[ -z "$open" ] || e2e_fail "the server listens beyond loopback: $open"

e2e_stage "file modes"
expect_mode "$SNAP_COMMON/internal" 700
expect_mode "$SNAP_COMMON/internal/noise_private.key" 600
expect_mode "$SNAP_COMMON/internal/db.sqlite" 600
expect_mode "$SNAP_COMMON/internal/headscale.sock" 770

e2e_stage "CLI over the unix socket"
"$HEADSCALE_BIN" users create snap-e2e >>"$E2E_WORK/cli.log" 2>&1 || e2e_fail "'headscale users create' failed"
"$HEADSCALE_BIN" users list -o json >"$E2E_WORK/users.json" 2>>"$E2E_WORK/cli.log" || e2e_fail "'headscale users list' failed"
grep -q '"snap-e2e"' "$E2E_WORK/users.json" || e2e_fail "'headscale users list' does not show the new user"

e2e_pass "listening on $(grep "pid=$SERVER_PID," "$E2E_WORK/sockets.txt" | awk '{ print $1 "/" $5 }' | sort -u | tr '\n' ' ')"
