#!/usr/bin/env bash
# Usage: Tests/e2e/tailscaled-pair.sh [--routes] [--rename] [--expire]      (as root)
#
# Two stock tailscaled 1.96.4 daemons (userspace networking, each with its own socket, state and
# UDP port) join our server with `tailscale up --authkey`, inside a fresh loopback-only network
# namespace. Then:
#   `headscale nodes list` shows pair-a and pair-b online with one IPv4 and one IPv6 each;
#   `tailscale status` on each lists the other and not as offline;
#   `tailscale ping -c 3` from pair-b to pair-a's IPv4 gets a pong (all via DERP with E2E_RELAY_ONLY=1);
#   `tailscale debug netmap` on pair-b is JSON that lists pair-a as a peer.
# --routes  then pair-a advertises a subnet route and the exit routes, the admin approves them with
#           `headscale nodes approve-routes`, and pair-b's `tailscale status --json` must show pair-a
#           as primary for the subnet and as an exit node, which pair-b then selects. A third daemon,
#           pair-c, routes the same subnet; when pair-a goes down, pair-b must see pair-c take over.
# --rename  then the admin renames pair-a with `headscale nodes rename`, and pair-b's status must
#           show the new MagicDNS name without a reconnect.
# --expire  then the admin expires pair-a with `headscale nodes expire`: pair-a drops to NeedsLogin
#           and pair-b's status marks pair-a expired.
# Knobs: E2E_RELAY_ONLY=1 and those listed in lib.sh. Prints PASS or "FAIL: ... at stage ...".
# shellcheck disable=SC2317 # functions passed to e2e_wait run indirectly
set -u -o pipefail

ROUTES=0
RENAME=0
EXPIRE=0
for arg in "$@"; do
    case $arg in
        --routes) ROUTES=1 ;;
        --rename) RENAME=1 ;;
        --expire) EXPIRE=1 ;;
        *) echo "usage: $0 [--routes] [--rename] [--expire]" >&2; exit 2 ;;
    esac
done
NAME=tailscaled-pair
[ "${E2E_RELAY_ONLY:-0}" = 1 ] && NAME+=-relay
[ "$ROUTES" = 1 ] && NAME+=-routes
[ "$RENAME" = 1 ] && NAME+=-rename
[ "$EXPIRE" = 1 ] && NAME+=-expire

# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$NAME" "$@"

# Runs `tailscale up` for node NAME with hostname HOST; output goes to the node's up.log.
tailscale_up() {
    local name=$1 host=$2 log
    log=$(e2e_node_dir "$name")/up.log
    e2e_stage "tailscale up $host"
    e2e_ts "$name" up --login-server="$E2E_SERVER_URL" --authkey="$E2E_AUTHKEY" --hostname="$host" \
        --accept-dns=false --timeout="${E2E_TIMEOUT}s" >"$log" 2>&1 ||
        e2e_fail "'tailscale up' for $host failed with status $?: $(tail -n 2 "$log" | tr '\n' ' ')"
}

# True when node NAME's `tailscale status` has a line for PEER that does not say offline.
status_lists_peer() {
    local name=$1 peer=$2 file
    file=$(e2e_node_dir "$name")/status.txt
    e2e_ts "$name" status >"$file" 2>&1
    grep -E "[[:space:]]${peer}[[:space:]]" "$file" | grep -qv offline
}

expect_peer_in_status() {
    local name=$1 host=$2 peer=$3
    e2e_stage "tailscale status on $host lists $peer"
    e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid "$name")" status_lists_peer "$name" "$peer" ||
        e2e_fail "'tailscale status' on $host does not list $peer as online: $(tr '\n' '|' <"$(e2e_node_dir "$name")/status.txt" | cut -c1-300)"
}

ping_peer() {
    local ip=$1 log=$E2E_WORK/ping.log
    e2e_stage "tailscale ping pair-b -> pair-a"
    e2e_ts pairb ping -c 3 --until-direct=false --timeout=5s "$ip" >"$log" 2>&1 ||
        e2e_fail "'tailscale ping -c 3 $ip' failed with status $?: $(tr '\n' '|' <"$log" | cut -c1-300)"
    grep -q '^pong from' "$log" || e2e_fail "'tailscale ping' printed no pong: $(tr '\n' '|' <"$log" | cut -c1-300)"
    PING_VIA=$(grep -m1 '^pong from' "$log" | sed -E 's/.* via ([^ ]+) in .*/\1/')
    if [ "${E2E_RELAY_ONLY:-0}" = 1 ] && grep '^pong from' "$log" | grep -qv ' via DERP('; then
        e2e_fail "E2E_RELAY_ONLY=1 but a pong came over a direct path: $(grep '^pong from' "$log" | grep -v ' via DERP(' | head -n 1)"
    fi
    e2e_log "$(grep -c '^pong from' "$log") pongs, first via $PING_VIA"
}

check_netmap() {
    local file=$E2E_WORK/netmap.json count
    e2e_stage "tailscale debug netmap"
    e2e_ts pairb debug netmap >"$file" 2>"$E2E_WORK/netmap.err" ||
        e2e_fail "'tailscale debug netmap' failed with status $?: $(tail -n 1 "$E2E_WORK/netmap.err")"
    count=$(python3 "$E2E_DIR/hsjson.py" netmap "$file" pair-a 2>&1) ||
        e2e_fail "'tailscale debug netmap' output: $count"
    e2e_log "pair-b's netmap has $count peer(s)"
}

e2e_require_clients tailscaled tailscale
e2e_server_setup

e2e_stage "start tailscaled"
e2e_tailscaled_node paira 41641
e2e_tailscaled_node pairb 41642
tailscale_up paira pair-a
tailscale_up pairb pair-b

e2e_stage "tailscale ip"
IP_A=$(e2e_ts paira ip -4 2>/dev/null | head -n 1)
IP_B=$(e2e_ts pairb ip -4 2>/dev/null | head -n 1)
if [ -z "$IP_A" ] || [ -z "$IP_B" ]; then
    e2e_fail "'tailscale ip -4' printed no address (pair-a '$IP_A', pair-b '$IP_B')"
fi

e2e_stage "nodes list shows both nodes"
e2e_expect_nodes pair-a,pair-b
[ "$(e2e_listed_ipv4 pair-a)" = "$IP_A" ] ||
    e2e_fail "'tailscale ip -4' on pair-a prints $IP_A but 'nodes list' shows $(e2e_listed_ipv4 pair-a)"
expect_peer_in_status pairb pair-b pair-a
expect_peer_in_status paira pair-a pair-b
ping_peer "$IP_A"
check_netmap

SUBNET=10.9.0.0/24

# True when pair-b's `tailscale status --json` shows PEER as primary for SUBNET, and, with a
# third argument "exit", as an exit node.
peer_routes_visible() {
    local peer=$1 exit=${2:-} file
    file=$(e2e_node_dir pairb)/status.json
    e2e_ts pairb status --json >"$file" 2>/dev/null || return 1
    python3 - "$file" "$SUBNET" "$peer" "$exit" <<'EOF'
import json, sys
status = json.load(open(sys.argv[1]))
subnet, peer_name, want_exit = sys.argv[2], sys.argv[3], sys.argv[4] == "exit"
for peer in (status.get("Peer") or {}).values():
    if peer.get("HostName") == peer_name or peer.get("DNSName", "").startswith(peer_name + "."):
        ok = subnet in (peer.get("PrimaryRoutes") or [])
        ok = ok and (peer.get("ExitNodeOption") is True or not want_exit)
        sys.exit(0 if ok else 1)
sys.exit(1)
EOF
}

# Prints the node id `headscale nodes list` shows for hostname HOST.
node_id() {
    e2e_nodes_list "$E2E_WORK/nodes.json" || e2e_fail "'headscale nodes list' failed"
    python3 "$E2E_DIR/hsjson.py" nodes "$E2E_WORK/nodes.json" | awk -F'\t' -v host="$1" '$2 == host { print $1 }'
}

# Approves ROUTES for the node with hostname HOST, retrying until its advertisement has arrived.
approve_routes() {
    local host=$1 routes=$2 id
    id=$(node_id "$host")
    [ -n "$id" ] || e2e_fail "$host is missing from 'headscale nodes list'"
    e2e_wait "$E2E_TIMEOUT" "$E2E_SERVER_PID" e2e_hs nodes approve-routes --identifier "$id" \
        --routes "$routes" -o json >/dev/null ||
        e2e_fail "'headscale nodes approve-routes' for $host failed (stderr in $E2E_WORK/cli.log)"
}

check_routes() {
    e2e_stage "pair-a advertises $SUBNET and the exit routes"
    e2e_ts paira set --advertise-routes="$SUBNET" --advertise-exit-node >"$E2E_WORK/set.log" 2>&1 ||
        e2e_fail "'tailscale set --advertise-routes' failed: $(tail -n 2 "$E2E_WORK/set.log")"
    e2e_stage "admin approves the routes"
    approve_routes pair-a "$SUBNET,0.0.0.0/0,::/0"
    e2e_stage "pair-b sees pair-a's routes"
    e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid pairb)" peer_routes_visible pair-a exit ||
        e2e_fail "pair-b's status never showed pair-a as primary for $SUBNET and as an exit node (see $(e2e_node_dir pairb)/status.json)"
    e2e_stage "pair-b uses pair-a as its exit node"
    e2e_ts pairb set --exit-node="$IP_A" >"$E2E_WORK/exit.log" 2>&1 ||
        e2e_fail "'tailscale set --exit-node=$IP_A' failed: $(tail -n 2 "$E2E_WORK/exit.log")"
    e2e_ts pairb set --exit-node= >>"$E2E_WORK/exit.log" 2>&1

    e2e_stage "pair-c joins as a second router of $SUBNET"
    e2e_tailscaled_node pairc 41643
    tailscale_up pairc pair-c
    e2e_ts pairc set --advertise-routes="$SUBNET" >>"$E2E_WORK/set.log" 2>&1 ||
        e2e_fail "'tailscale set --advertise-routes' on pair-c failed: $(tail -n 2 "$E2E_WORK/set.log")"
    approve_routes pair-c "$SUBNET"
    peer_routes_visible pair-a || e2e_fail "pair-a lost $SUBNET when pair-c, a newer router, was approved"
    e2e_stage "pair-a goes down; pair-c takes over $SUBNET"
    e2e_ts paira down >>"$E2E_WORK/set.log" 2>&1 || e2e_fail "'tailscale down' on pair-a failed"
    e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid pairb)" peer_routes_visible pair-c ||
        e2e_fail "pair-b never saw pair-c as primary for $SUBNET after pair-a went down (see $(e2e_node_dir pairb)/status.json)"
    ! peer_routes_visible pair-a || e2e_fail "pair-b still lists pair-a as primary for $SUBNET after failover"
}

# True when pair-b's `tailscale status --json` lists a peer whose MagicDNS name starts with NAME.
peer_named() {
    local file
    file=$(e2e_node_dir pairb)/status.json
    e2e_ts pairb status --json >"$file" 2>/dev/null || return 1
    python3 -c '
import json, sys
status = json.load(open(sys.argv[1]))
names = [peer.get("DNSName", "") for peer in (status.get("Peer") or {}).values()]
sys.exit(0 if any(name.startswith(sys.argv[2] + ".") for name in names) else 1)
' "$file" "$1"
}

check_rename() {
    e2e_stage "admin renames pair-a"
    local id
    id=$(node_id pair-a)
    [ -n "$id" ] || e2e_fail "pair-a is missing from 'headscale nodes list'"
    e2e_hs nodes rename --identifier "$id" renamed-a >/dev/null ||
        e2e_fail "'headscale nodes rename' failed (stderr in $E2E_WORK/cli.log)"
    e2e_stage "pair-b sees the new name"
    e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid pairb)" peer_named renamed-a ||
        e2e_fail "pair-b's status never showed renamed-a (see $(e2e_node_dir pairb)/status.json)"
}

[ "$ROUTES" = 1 ] && check_routes
# True when node NAME's backend state is STATE.
backend_state_is() {
    e2e_ts "$1" status --json 2>/dev/null | python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin).get("BackendState") == sys.argv[1] else 1)' "$2"
}

# True when pair-b's `tailscale status --json` marks peer HOST as expired.
peer_expired() {
    e2e_ts pairb status --json 2>/dev/null | python3 -c '
import json, sys
peers = (json.load(sys.stdin).get("Peer") or {}).values()
sys.exit(0 if any(p.get("HostName") == sys.argv[1] and p.get("Expired") for p in peers) else 1)
' "$1"
}

check_expire() {
    e2e_stage "admin expires pair-a"
    local id
    id=$(node_id pair-a)
    [ -n "$id" ] || e2e_fail "pair-a is missing from 'headscale nodes list'"
    e2e_hs nodes expire --identifier "$id" >/dev/null || e2e_fail "'headscale nodes expire' failed (stderr in $E2E_WORK/cli.log)"
    e2e_stage "pair-a needs a new login"
    e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid paira)" backend_state_is paira NeedsLogin ||
        e2e_fail "pair-a never reached NeedsLogin after its key was expired"
    e2e_stage "pair-b sees pair-a expired"
    e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid pairb)" peer_expired pair-a ||
        e2e_fail "pair-b's status never marked pair-a as expired"
}

[ "$RENAME" = 1 ] && check_rename
[ "$EXPIRE" = 1 ] && check_expire
e2e_pass "pair-a=$IP_A pair-b=$IP_B, ping via $PING_VIA"
