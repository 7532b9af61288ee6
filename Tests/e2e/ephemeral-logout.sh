#!/usr/bin/env bash
# Usage: Tests/e2e/ephemeral-logout.sh      (as root)
#
# Stock tailscaled 1.96.4 daemons inside a fresh loopback-only network namespace: a persistent
# peer, and two nodes that join with an ephemeral pre-auth key. The server runs with
# ephemeral_node_inactivity_timeout 66s (the smallest value the config accepts).
#   `tailscale logout` on the first ephemeral node deletes it at once: it leaves `nodes list`
#   and the peer's `tailscale status`;
#   the second ephemeral node's daemon is killed (no logout): after the inactivity timeout it
#   leaves `nodes list` and the peer's status too, while the peer stays.
# Knobs: those listed in lib.sh. Prints PASS or "FAIL: ... at stage ...".
# shellcheck disable=SC2317 # functions passed to e2e_wait run indirectly
set -u -o pipefail

# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init ephemeral-logout "$@"

INACTIVITY=66
export E2E_SERVER_EXTRA="ephemeral_node_inactivity_timeout: ${INACTIVITY}s"

# True when `nodes list` shows exactly the hostnames given, comma-separated.
nodes_are() {
    e2e_nodes_list "$E2E_WORK/nodes.json" || return 1
    [ "$(python3 "$E2E_DIR/hsjson.py" nodes "$E2E_WORK/nodes.json" | cut -f2 | sort | paste -sd,)" = "$1" ]
}

# True when the peer's `tailscale status` lists HOST.
peer_lists() {
    e2e_ts peer status >"$E2E_WORK/peer-status.txt" 2>&1
    grep -qE "[[:space:]]$1[[:space:]]" "$E2E_WORK/peer-status.txt"
}

peer_lacks() { ! peer_lists "$1"; }

# Starts a daemon and runs `tailscale up` with KEY: up_node NAME HOST PORT KEY
up_node() {
    local name=$1 host=$2 port=$3 key=$4
    e2e_stage "tailscale up $host"
    e2e_tailscaled_node "$name" "$port"
    e2e_ts "$name" up --login-server="$E2E_SERVER_URL" --authkey="$key" --hostname="$host" \
        --accept-dns=false --timeout="${E2E_TIMEOUT}s" >"$(e2e_node_dir "$name")/up.log" 2>&1 ||
        e2e_fail "'tailscale up' for $host failed: $(tail -n 2 "$(e2e_node_dir "$name")/up.log" | tr '\n' ' ')"
}

e2e_require_clients tailscaled tailscale
e2e_server_setup

e2e_stage "create ephemeral pre-auth key"
KEY_FILE=$E2E_WORK/server/ephemeral-key.json
e2e_hs_to "$KEY_FILE" preauthkeys create --user "$E2E_USER_ID" --reusable --ephemeral --expiration 1h -o json
chmod 0600 "$KEY_FILE"
EPHEMERAL_KEY=$(python3 "$E2E_DIR/hsjson.py" authkey "$KEY_FILE" 2>>"$E2E_WORK/cli.log") ||
    e2e_fail "'headscale preauthkeys create --ephemeral -o json' printed no key: $(tail -n 1 "$E2E_WORK/cli.log")"

up_node peer peer 41641 "$E2E_AUTHKEY"
up_node ephem ephemeral-a 41642 "$EPHEMERAL_KEY"
up_node idle ephemeral-b 41643 "$EPHEMERAL_KEY"
e2e_expect_nodes "ephemeral-a,ephemeral-b,peer"
e2e_wait "$E2E_TIMEOUT" "" peer_lists ephemeral-a || e2e_fail "the peer's status never listed ephemeral-a"
e2e_wait "$E2E_TIMEOUT" "" peer_lists ephemeral-b || e2e_fail "the peer's status never listed ephemeral-b"

e2e_stage "tailscale logout deletes ephemeral-a"
e2e_ts ephem logout >"$E2E_WORK/logout.log" 2>&1 ||
    e2e_fail "'tailscale logout' failed with status $?: $(tail -n 2 "$E2E_WORK/logout.log" | tr '\n' ' ')"
e2e_wait "$E2E_TIMEOUT" "" nodes_are "ephemeral-b,peer" ||
    e2e_fail "after logout 'nodes list' shows: $(python3 "$E2E_DIR/hsjson.py" nodes "$E2E_WORK/nodes.json" | cut -f2 | paste -sd,)"
e2e_wait "$E2E_TIMEOUT" "" peer_lacks ephemeral-a || e2e_fail "the peer still lists ephemeral-a after its logout"

e2e_stage "ephemeral-b goes away without logout and is deleted after ${INACTIVITY}s"
kill -KILL "$(e2e_node_pid idle)" 2>/dev/null
gone_at=$SECONDS
e2e_wait $((INACTIVITY + 30)) "" nodes_are "peer" ||
    e2e_fail "ephemeral-b was still listed $((INACTIVITY + 30))s after its daemon died: $(python3 "$E2E_DIR/hsjson.py" nodes "$E2E_WORK/nodes.json" | cut -f2 | paste -sd,)"
elapsed=$((SECONDS - gone_at))
[ "$elapsed" -ge $((INACTIVITY - 5)) ] || e2e_fail "ephemeral-b was deleted after ${elapsed}s, before the ${INACTIVITY}s timeout"
e2e_wait "$E2E_TIMEOUT" "" peer_lacks ephemeral-b || e2e_fail "the peer still lists ephemeral-b after its deletion"

e2e_pass "ephemeral-a deleted on logout, ephemeral-b after ${elapsed}s offline; the peer saw both go"
