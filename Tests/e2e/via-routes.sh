#!/usr/bin/env bash
# Usage: Tests/e2e/via-routes.sh      (as root)
#
# Four stock tailscaled 1.96.4 daemons join our server, which runs a policy with a `via` grant.
# router-p (untagged and the oldest, so the tailnet's primary) and router-a (`tag:router-a`) both
# advertise 10.9.0.0/24, and the admin approves it on both. src may reach 10.9.0.0/24 only through
# `tag:router-a` routers, and plain may reach it through any router.
# Then src's `tailscale status --json` must show router-a, not router-p, as primary for the subnet,
# and plain's must show router-p. `tailscale ping 10.9.0.1` (an address inside the subnet) must get
# its pong from router-a on src and from router-p on plain, because each client picks the peer whose
# AllowedIPs cover the address. Both routers are also exit nodes, and a second `via` grant to
# autogroup:internet lets src use only router-a as exit node, while plain may use both.
# Then the policy drops `via` (SIGHUP): src must move to router-p and see both exit nodes.
# Knobs: those listed in lib.sh. Prints PASS or "FAIL: ... at stage ...".
# shellcheck disable=SC2317 # functions passed to e2e_wait run indirectly
set -u -o pipefail

# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init via-routes "$@"

SUBNET=10.9.0.0/24
TARGET_IP=10.9.0.1

# Writes the policy: "via" steers src to tag:router-a, "plain" drops the `via` field.
# Nodes register in order with sequential addresses: router-p .1, router-a .2, src .3, plain .4.
write_policy() {
    local via=', "via": ["tag:router-a"]'
    [ "$1" = plain ] && via=''
    cat >"$E2E_POLICY_PATH" <<EOF
{
  // Written by the end-to-end test via-routes ($1).
  "tagOwners": {"tag:router-a": ["e2e@"]},
  "hosts": {"router-p": "100.64.0.1/32", "src": "100.64.0.3/32", "plain": "100.64.0.4/32"},
  "grants": [
    {"src": ["src"], "dst": ["$SUBNET"], "ip": ["*"]$via},
    {"src": ["src"], "dst": ["autogroup:internet"], "ip": ["*"]$via},
    {"src": ["plain"], "dst": ["$SUBNET", "autogroup:internet"], "ip": ["*"]},
    {"src": ["src", "plain"], "dst": ["router-p"], "ip": ["*"]},
  ],
}
EOF
}

# Runs `tailscale up` for node NAME with hostname HOST and the extra flags given.
tailscale_up() {
    local name=$1 host=$2 log
    shift 2
    log=$(e2e_node_dir "$name")/up.log
    e2e_stage "tailscale up $host"
    e2e_ts "$name" up --login-server="$E2E_SERVER_URL" --authkey="$E2E_AUTHKEY" --hostname="$host" \
        --accept-dns=false --timeout="${E2E_TIMEOUT}s" "$@" >"$log" 2>&1 ||
        e2e_fail "'tailscale up' for $host failed with status $?: $(tail -n 2 "$log" | tr '\n' ' ')"
}

# Prints the node id `headscale nodes list` shows for hostname HOST.
node_id() {
    e2e_nodes_list "$E2E_WORK/nodes.json" || e2e_fail "'headscale nodes list' failed"
    python3 "$E2E_DIR/hsjson.py" nodes "$E2E_WORK/nodes.json" | awk -F'\t' -v host="$1" '$2 == host { print $1 }'
}

# Approves SUBNET and the exit routes for HOST, retrying until its advertisement has arrived.
approve_subnet() {
    local host=$1 id
    id=$(node_id "$host")
    [ -n "$id" ] || e2e_fail "$host is missing from 'headscale nodes list'"
    e2e_wait "$E2E_TIMEOUT" "$E2E_SERVER_PID" e2e_hs nodes approve-routes --identifier "$id" \
        --routes "$SUBNET,0.0.0.0/0,::/0" -o json >/dev/null ||
        e2e_fail "'headscale nodes approve-routes' for $host failed (stderr in $E2E_WORK/cli.log)"
}

# True when VIEWER's `tailscale status --json` shows SUBNET as a primary route of exactly the peer
# named ROUTER among router-p and router-a.
subnet_only_on() {
    local viewer=$1 router=$2 file
    file=$(e2e_node_dir "$viewer")/status.json
    e2e_ts "$viewer" status --json >"$file" 2>/dev/null || return 1
    python3 - "$file" "$SUBNET" "$router" <<'EOF'
import json, sys
status = json.load(open(sys.argv[1]))
subnet, router = sys.argv[2], sys.argv[3]
holders = sorted(
    peer.get("HostName", "")
    for peer in (status.get("Peer") or {}).values()
    if subnet in (peer.get("PrimaryRoutes") or [])
)
sys.exit(0 if holders == [router] else 1)
EOF
}

# True when VIEWER's `tailscale status --json` offers exactly the peers named in ROUTERS (sorted,
# comma-separated) as exit nodes.
exit_nodes_are() {
    local viewer=$1 routers=$2 file
    file=$(e2e_node_dir "$viewer")/status.json
    e2e_ts "$viewer" status --json >"$file" 2>/dev/null || return 1
    python3 - "$file" "$routers" <<'EOF'
import json, sys
status = json.load(open(sys.argv[1]))
offered = sorted(
    peer.get("HostName", "")
    for peer in (status.get("Peer") or {}).values()
    if peer.get("ExitNodeOption") is True
)
sys.exit(0 if ",".join(offered) == sys.argv[2] else 1)
EOF
}

# True when VIEWER's `tailscale ping` to TARGET_IP gets a pong from ROUTER.
pong_from() {
    local viewer=$1 router=$2 log
    log=$(e2e_node_dir "$viewer")/ping.log
    e2e_ts "$viewer" ping -c 1 --until-direct=false --timeout=5s "$TARGET_IP" >"$log" 2>&1
    grep -q "^pong from $router " "$log"
}

e2e_require_clients tailscaled tailscale
export E2E_POLICY_PATH=$E2E_WORK/policy.hujson
write_policy via
e2e_server_setup

e2e_stage "start tailscaled"
# Node names name shell variables, so they have no hyphen; hostnames do.
e2e_tailscaled_node routerp 41641
e2e_tailscaled_node routera 41642
e2e_tailscaled_node src 41643
e2e_tailscaled_node plain 41644
tailscale_up routerp router-p --advertise-routes="$SUBNET" --advertise-exit-node
tailscale_up routera router-a --advertise-routes="$SUBNET" --advertise-exit-node --advertise-tags=tag:router-a
tailscale_up src src --accept-routes
tailscale_up plain plain --accept-routes
e2e_stage "nodes list shows every node"
e2e_expect_nodes router-p,router-a,src,plain

e2e_stage "admin approves $SUBNET and the exit routes on both routers"
approve_subnet router-p
approve_subnet router-a

e2e_stage "src sees $SUBNET on router-a only"
e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid src)" subnet_only_on src router-a ||
    e2e_fail "src's status never showed $SUBNET on router-a alone (see $(e2e_node_dir src)/status.json)"
e2e_stage "plain sees $SUBNET on router-p only"
e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid plain)" subnet_only_on plain router-p ||
    e2e_fail "plain's status never showed $SUBNET on router-p alone (see $(e2e_node_dir plain)/status.json)"

e2e_stage "src pings $TARGET_IP through router-a"
e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid src)" pong_from src router-a ||
    e2e_fail "src's ping to $TARGET_IP never got a pong from router-a: $(tr '\n' '|' <"$(e2e_node_dir src)/ping.log" | cut -c1-300)"
e2e_stage "plain pings $TARGET_IP through router-p"
e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid plain)" pong_from plain router-p ||
    e2e_fail "plain's ping to $TARGET_IP never got a pong from router-p: $(tr '\n' '|' <"$(e2e_node_dir plain)/ping.log" | cut -c1-300)"
e2e_stage "src may use only router-a as exit node"
e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid src)" exit_nodes_are src router-a ||
    e2e_fail "src's status never offered router-a alone as exit node (see $(e2e_node_dir src)/status.json)"
e2e_stage "plain may use both exit nodes"
e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid plain)" exit_nodes_are plain router-a,router-p ||
    e2e_fail "plain's status never offered both routers as exit nodes (see $(e2e_node_dir plain)/status.json)"

e2e_stage "policy without via: src moves to router-p"
write_policy plain
kill -HUP "$E2E_SERVER_PID"
e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid src)" subnet_only_on src router-p ||
    e2e_fail "src's status never showed $SUBNET on router-p alone after the via grant was dropped"
e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid src)" exit_nodes_are src router-a,router-p ||
    e2e_fail "src's status never offered both exit nodes after the via grant was dropped"
e2e_pass "src routes $SUBNET through router-a, plain through router-p"
