#!/usr/bin/env bash
# Usage: Tests/e2e/derp-peer-gone.sh      (as root)
#
# A node leaves the embedded DERP relay and the relay notifies its peer. Two stock tailscaled 1.96.4 daemons
# join with direct UDP off, and pair-b pings pair-a through the relay. Then pair-b's daemon stops:
#   the server log shows PeerGone (disconnected) sent for pair-b's node key to the peer that had
#   received its packets (pair-a);
#   a `tailscale ping` from pair-a to pair-b sends a disco ping through the relay, which answers
#   PeerGone (not here), and pair-a logs that derp-999 does not know about that peer.
# Knobs: those listed in lib.sh. Prints PASS or "FAIL: ... at stage ...".
# shellcheck disable=SC2317 # functions passed to e2e_wait run indirectly
set -u -o pipefail

NAME=derp-peer-gone
export E2E_RELAY_ONLY=1

# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$NAME" "$@"

tailscale_up() {
    local name=$1 host=$2 log
    log=$(e2e_node_dir "$name")/up.log
    e2e_stage "tailscale up $host"
    e2e_ts "$name" up --login-server="$E2E_SERVER_URL" --authkey="$E2E_AUTHKEY" --hostname="$host" \
        --accept-dns=false --timeout="${E2E_TIMEOUT}s" >"$log" 2>&1 ||
        e2e_fail "'tailscale up' for $host failed with status $?: $(tail -n 2 "$log" | tr '\n' ' ')"
}

# Prints the short form the server logs for NAME's node key, such as nodekey:[1a2b3c4d].
short_node_key() {
    local full
    full=$(e2e_ts "$1" status --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["Self"]["PublicKey"])')
    [ -n "$full" ] && echo "nodekey:[${full#nodekey:}" | cut -c1-17 | sed 's/$/]/'
}

ping_through_relay() {
    e2e_ts pairb ping -c 3 --until-direct=false --timeout=5s "$IP_A" >"$E2E_WORK/ping.log" 2>&1 &&
        grep -q '^pong from.* via DERP(' "$E2E_WORK/ping.log"
}

server_sent_peer_gone() {
    grep -aF 'sent PeerGone (disconnected)' "$E2E_WORK/server/server.log" | grep -qF "node=$KEY_B"
}

peer_told_not_here() {
    e2e_ts paira ping -c 1 --until-direct=false --timeout=2s "$IP_B" >>"$E2E_WORK/ping-gone.log" 2>&1
    [ "$(grep -ac 'derp-999 does not know about peer' "$(e2e_node_log paira)")" -gt "$NOT_HERE_BEFORE" ]
}

e2e_require_clients tailscaled tailscale
e2e_server_setup

e2e_stage "start tailscaled"
e2e_tailscaled_node paira 41641
e2e_tailscaled_node pairb 41642
tailscale_up paira pair-a
tailscale_up pairb pair-b
IP_A=$(e2e_ts paira ip -4 2>/dev/null | head -n 1)
IP_B=$(e2e_ts pairb ip -4 2>/dev/null | head -n 1)
if [ -z "$IP_A" ] || [ -z "$IP_B" ]; then
    e2e_fail "'tailscale ip -4' printed no address (pair-a '$IP_A', pair-b '$IP_B')"
fi
KEY_B=$(short_node_key pairb)
[ -n "$KEY_B" ] || e2e_fail "'tailscale status --json' on pair-b shows no node key"
e2e_log "pair-a=$IP_A pair-b=$IP_B ($KEY_B)"

e2e_stage "ping pair-b -> pair-a through the relay"
e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid pairb)" ping_through_relay ||
    e2e_fail "no pong via DERP from pair-a: $(tr '\n' '|' <"$E2E_WORK/ping.log" | cut -c1-300)"

e2e_stage "pair-b leaves the relay"
NOT_HERE_BEFORE=$(grep -ac 'derp-999 does not know about peer' "$(e2e_node_log paira)")
e2e_stop "$(e2e_node_pid pairb)" || e2e_fail "tailscaled pair-b did not stop within 10 s of SIGTERM"

e2e_stage "server sends PeerGone (disconnected)"
e2e_wait 20 "" server_sent_peer_gone ||
    e2e_fail "the server log shows no 'sent PeerGone (disconnected)' for $KEY_B within 20 s"

e2e_stage "pair-a is told pair-b is not here"
e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid paira)" peer_told_not_here ||
    e2e_fail "pair-a never logged 'derp-999 does not know about peer' after pinging $IP_B: $(tail -n 2 "$E2E_WORK/ping-gone.log" | tr '\n' '|')"
e2e_pass "pair-b=$KEY_B left; PeerGone disconnected and not-here both reached pair-a"
