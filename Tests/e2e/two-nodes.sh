#!/usr/bin/env bash
# Usage: Tests/e2e/two-nodes.sh [--restart] [--wrong-key] [--policy]      (as root)
#
# Two real Tailscale clients join our server and talk over the tailnet, all inside a fresh
# loopback-only network namespace:
#   node A (caddy, tsnet 1.90.9) answers "hello" on its tailnet port 80;
#   node B (caddy, or with E2E_NODE_B=forwarder the baseshift forwarder, tsnet 1.86.0)
#   forwards 127.0.0.1:18080 to A's tailnet IPv4;
#   `headscale nodes list` shows both online with one IPv4 and one IPv6 each;
#   curl http://127.0.0.1:18080/ returns "hello".
# --restart    then stops the server, starts it on the same config and database, and expects
#              both nodes back with the same ids and addresses and "hello" again, with no new key.
# --wrong-key  then starts node C with a wrong pre-auth key and expects the server's rejection in
#              C's log (ERE E2E_REFUSAL_PATTERN, default 'pre-auth key') and still two nodes.
# --policy     runs the server with a policy file that lets only B reach A on port 80, then drops
#              that rule (SIGHUP) and expects B -> A to fail within 2 s, restores it (SIGHUP) and
#              expects "hello" again, with no node opening a new map stream in between.
# Knobs: E2E_NODE_B=caddy|forwarder, E2E_UPSTREAM=ip|name (B dials A by address or by its MagicDNS
# name e2e-a.e2e.test), E2E_RELAY_ONLY=1 (no direct UDP, so the embedded DERP relay
# carries the traffic), E2E_WRONG_KEY (the key node C uses), and those listed in lib.sh.
# Prints PASS or "FAIL: ... at stage ...", exits 0 or 1.
# shellcheck disable=SC2317 # functions passed to e2e_wait run indirectly
set -u -o pipefail

RESTART=0
WRONG_KEY=0
POLICY=0
for arg in "$@"; do
    case $arg in
        --restart) RESTART=1 ;;
        --wrong-key) WRONG_KEY=1 ;;
        --policy) POLICY=1 ;;
        *) echo "usage: $0 [--restart] [--wrong-key] [--policy]" >&2; exit 2 ;;
    esac
done

NODE_B=${E2E_NODE_B:-caddy}
case $NODE_B in
    caddy | forwarder) ;;
    *) echo "E2E_NODE_B='$NODE_B' is invalid; use caddy or forwarder" >&2; exit 2 ;;
esac
NAME=two-nodes
[ "$NODE_B" = forwarder ] && NAME+=-forwarder
[ "${E2E_UPSTREAM:-ip}" = name ] && NAME+=-magicdns
[ "${E2E_RELAY_ONLY:-0}" = 1 ] && NAME+=-relay
[ "$RESTART" = 1 ] && NAME+=-restart
[ "$WRONG_KEY" = 1 ] && NAME+=-wrong-key
[ "$POLICY" = 1 ] && NAME+=-policy

# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$NAME" "$@"

PROXY_PORT=18080
HOSTS=e2e-a,e2e-b

proxy_says_hello() {
    local body
    body=$(curl -sS -m 5 "http://127.0.0.1:$PROXY_PORT/" 2>>"$E2E_WORK/curl.log")
    echo "$(date +%T) body: ${body:0:80}" >>"$E2E_WORK/curl.log"
    [ "$body" = hello ]
}

# Waits until B's local port returns "hello"; on timeout fails with hints from both logs.
expect_hello() {
    e2e_stage "$1"
    e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid nodeb)" proxy_says_hello && return 0
    local hint="" state
    state=$(e2e_node_last_state nodeb)
    [ "$state" != Running ] && hint+=" node B is in state '${state:-unknown}', not Running (a tsnet dial waits for Running, which needs a DERP home region or a live peer);"
    if grep -aq 'packet filter: 0 filters' "$(e2e_node_log nodea)" &&
        ! grep -aqE 'packet filter: [1-9][0-9]* filters' "$(e2e_node_log nodea)"; then
        hint+=" node A's packet filter is empty, which drops all inbound traffic;"
    fi
    e2e_fail "GET http://127.0.0.1:$PROXY_PORT/ did not return 'hello' within ${E2E_TIMEOUT}s (last: $(tail -n 1 "$E2E_WORK/curl.log"));$hint"
}

# Reports how B reached A and, in relay-only mode, fails when any node used a direct path.
check_path() {
    local direct_a direct_b
    direct_a=$(e2e_node_direct_paths nodea)
    direct_b=$(e2e_node_direct_paths nodeb)
    if [ "${E2E_RELAY_ONLY:-0}" = 1 ]; then
        [ -z "$direct_a$direct_b" ] ||
            e2e_fail "E2E_RELAY_ONLY=1 but the nodes used direct paths (A: $direct_a B: $direct_b)"
        PATH_INFO="relay only"
    else
        PATH_INFO="direct: ${direct_b:-none seen}"
    fi
}

start_pair() {
    e2e_require_clients caddy
    [ "$NODE_B" = forwarder ] && e2e_require_clients ts-forwarder
    e2e_server_setup

    e2e_stage "node A registration"
    e2e_caddy_node nodea e2e-a 41641 "$E2E_AUTHKEY"
    e2e_wait_node_ipv4 nodea
    IP_A=$E2E_IPV4

    e2e_stage "node B registration"
    # With E2E_UPSTREAM=name, B reaches A by its MagicDNS name instead of its address.
    local upstream=$IP_A
    [ "${E2E_UPSTREAM:-ip}" = name ] && upstream=e2e-a.e2e.test
    if [ "$NODE_B" = forwarder ]; then
        e2e_forwarder_node nodeb e2e-b "$E2E_AUTHKEY" "$PROXY_PORT" "$upstream"
    else
        e2e_caddy_node nodeb e2e-b 41642 "$E2E_AUTHKEY" "$PROXY_PORT" "http://$upstream:80"
    fi
    e2e_wait_node_ipv4 nodeb
    IP_B=$E2E_IPV4

    e2e_stage "node B netmap lists node A"
    e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid nodeb)" e2e_node_has_peer nodeb ||
        e2e_fail "node B's WireGuard config never had a peer: the map response lists no peers for it"

    e2e_stage "nodes list shows both nodes"
    e2e_expect_nodes "$HOSTS"
    [ "$(e2e_listed_ipv4 e2e-a)" = "$IP_A" ] ||
        e2e_fail "node A's log shows $IP_A but 'nodes list' shows $(e2e_listed_ipv4 e2e-a)"
    [ "$(e2e_listed_ipv4 e2e-b)" = "$IP_B" ] ||
        e2e_fail "node B's log shows $IP_B but 'nodes list' shows $(e2e_listed_ipv4 e2e-b)"
    expect_hello "proxy B -> A returns hello"
    check_path
    e2e_log "hello through the tailnet: A=$IP_A B=$IP_B ($PATH_INFO)"
}

restart_server() {
    e2e_stage "server restart"
    local before=$E2E_WORK/nodes-before-restart.tsv after=$E2E_WORK/nodes-after-restart.tsv
    e2e_nodes_list "$E2E_WORK/nodes.json" || e2e_fail "'headscale nodes list' failed before the restart"
    python3 "$E2E_DIR/hsjson.py" nodes "$E2E_WORK/nodes.json" | cut -f1,2,5,6 | sort >"$before"
    e2e_server_stop
    e2e_server_start

    e2e_stage "nodes reconnect after restart"
    e2e_expect_nodes "$HOSTS"
    python3 "$E2E_DIR/hsjson.py" nodes "$E2E_WORK/nodes.json" | cut -f1,2,5,6 | sort >"$after"
    cmp -s "$before" "$after" ||
        e2e_fail "node ids or addresses changed over the restart: before [$(tr '\t\n' ' ;' <"$before")] after [$(tr '\t\n' ' ;' <"$after")]"
    expect_hello "proxy B -> A after restart"
}

wrong_key_node() {
    e2e_stage "node C with a wrong key is rejected"
    local key=${E2E_WRONG_KEY:-}
    if [ -z "$key" ]; then
        # Same shape as a real key (hskey-auth-<12>-<64>) so the server reaches its key lookup.
        key="hskey-auth-$(head -c 64 /dev/urandom | sha256sum | cut -c1-12)-$(head -c 64 /dev/urandom | sha256sum | cut -c1-64)"
    fi
    local pattern=${E2E_REFUSAL_PATTERN:-pre-auth key}
    e2e_caddy_node nodec e2e-c 41643 "$key"
    if ! e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid nodec)" grep -aqiE "$pattern" "$(e2e_node_log nodec)"; then
        e2e_fail "node C's log has no line matching /$pattern/ within ${E2E_TIMEOUT}s (set E2E_REFUSAL_PATTERN to the server's message)"
    fi
    e2e_log "node C got: $(grep -aiE -m1 "$pattern" "$(e2e_node_log nodec)" | cut -c1-200)"
    [ -z "$(e2e_node_ipv4 nodec)" ] || e2e_fail "node C got a tailnet address $(e2e_node_ipv4 nodec) with a wrong key"
    e2e_expect_nodes "$HOSTS"
}

# Writes the policy file: "open" lets only B reach A on port 80; "narrow" drops that rule and
# keeps one that lets A reach B on port 22, so the nodes still see each other.
# Nodes register in order, so A is 100.64.0.1 and B is 100.64.0.2.
write_policy() {
    local rule='{"action": "accept", "src": ["b"], "dst": ["a:80"]}'
    [ "$1" = narrow ] && rule='{"action": "accept", "src": ["a"], "dst": ["b:22"]}'
    cat >"$E2E_POLICY_PATH" <<EOF
{
  // Written by the end-to-end test ($1).
  "hosts": {"a": "100.64.0.1/32", "b": "100.64.0.2/32"},
  "acls": [$rule],
}
EOF
}

map_streams_opened() {
    grep -ac 'map stream opened' "$E2E_WORK/server/server.log"
}

change_policy() {
    e2e_stage "policy narrowed: B may no longer reach A"
    local streams
    streams=$(map_streams_opened)
    write_policy narrow
    kill -HUP "$E2E_SERVER_PID"
    # The new filter must be in force on A within 2 s of the change.
    sleep 2
    local body
    body=$(curl -sS -m 3 "http://127.0.0.1:$PROXY_PORT/" 2>>"$E2E_WORK/curl.log")
    [ "$body" != hello ] || e2e_fail "B still reached A 2 s after the policy stopped allowing it"
    e2e_stage "policy widened again"
    write_policy open
    kill -HUP "$E2E_SERVER_PID"
    expect_hello "proxy B -> A after the policy allows it again"
    [ "$(map_streams_opened)" = "$streams" ] ||
        e2e_fail "nodes opened new map streams during the policy changes ($streams before, $(map_streams_opened) after)"
}

if [ "$POLICY" = 1 ]; then
    export E2E_POLICY_PATH=$E2E_WORK/policy.hujson
    write_policy open
fi
start_pair
[ "$POLICY" = 1 ] && change_policy
[ "$RESTART" = 1 ] && restart_server
[ "$WRONG_KEY" = 1 ] && wrong_key_node
e2e_pass "A=$IP_A B=$IP_B, $PATH_INFO"
