#!/usr/bin/env bash
# Usage: Tests/e2e/ephemeral-logout.sh      (as root)
#
# A stock tailscaled 1.96.4 joins with an ephemeral pre-auth key inside a fresh loopback-only
# network namespace; `headscale nodes list` shows it online; `tailscale logout` deletes it at once,
# so `nodes list` is empty afterwards.
# Knobs: those listed in lib.sh. Prints PASS or "FAIL: ... at stage ...".
# shellcheck disable=SC2317 # functions passed to e2e_wait run indirectly
set -u -o pipefail

# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init ephemeral-logout "$@"

HOST=ephemeral-a

# True when `nodes list` has no node at all.
nodes_empty() {
    e2e_nodes_list "$E2E_WORK/nodes.json" || return 1
    [ -z "$(python3 "$E2E_DIR/hsjson.py" nodes "$E2E_WORK/nodes.json")" ]
}

e2e_require_clients tailscaled tailscale
e2e_server_setup

e2e_stage "create ephemeral pre-auth key"
KEY_FILE=$E2E_WORK/server/ephemeral-key.json
e2e_hs_to "$KEY_FILE" preauthkeys create --user "$E2E_USER_ID" --ephemeral --expiration 1h -o json
chmod 0600 "$KEY_FILE"
EPHEMERAL_KEY=$(python3 "$E2E_DIR/hsjson.py" authkey "$KEY_FILE" 2>>"$E2E_WORK/cli.log") ||
    e2e_fail "'headscale preauthkeys create --ephemeral -o json' printed no key: $(tail -n 1 "$E2E_WORK/cli.log")"

e2e_stage "tailscale up with the ephemeral key"
e2e_tailscaled_node ephem 41641
e2e_ts ephem up --login-server="$E2E_SERVER_URL" --authkey="$EPHEMERAL_KEY" --hostname="$HOST" \
    --accept-dns=false --timeout="${E2E_TIMEOUT}s" >"$E2E_WORK/up.log" 2>&1 ||
    e2e_fail "'tailscale up' failed with status $?: $(tail -n 2 "$E2E_WORK/up.log" | tr '\n' ' ')"

e2e_stage "nodes list shows the node"
e2e_expect_nodes "$HOST"

e2e_stage "tailscale logout deletes the node"
e2e_ts ephem logout >"$E2E_WORK/logout.log" 2>&1 ||
    e2e_fail "'tailscale logout' failed with status $?: $(tail -n 2 "$E2E_WORK/logout.log" | tr '\n' ' ')"
e2e_wait "$E2E_TIMEOUT" "" nodes_empty ||
    e2e_fail "after logout 'nodes list' still lists: $(python3 "$E2E_DIR/hsjson.py" nodes "$E2E_WORK/nodes.json" | tr '\t\n' ' ;')"

e2e_pass "$HOST deleted on logout"
