#!/usr/bin/env bash
# Usage: Tests/e2e/run.sh [TEST...]      (as root; default: every test below)
#
# Runs the end-to-end tests with real Tailscale clients, one fresh network namespace each, and
# prints one PASS/FAIL line per test and a closing "e2e: N passed, M failed". Exits 1 if any failed.
#
#   two-nodes                caddy A serves hello, caddy B proxies to it over the tailnet
#   two-nodes-forwarder      the same with node B = baseshift forwarder (tsnet 1.86.0)
#   two-nodes-magicdns       the same with B dialing A by its MagicDNS name
#   two-nodes-relay          the same with direct UDP off, so the embedded DERP relay carries it
#   two-nodes-restart        server restart: same nodes, same addresses, hello again
#   two-nodes-wrong-key      a third node with a wrong pre-auth key is rejected
#   two-nodes-policy         a policy change over SIGHUP cuts B off from A and lets it back in
#   tailscaled-pair          two stock tailscaled 1.96.4: up, status, ping, debug netmap
#   tailscaled-pair-relay    the same with direct UDP off
#   tailscaled-pair-rename   the admin renames a node and its peer sees the new MagicDNS name
#   tailscaled-pair-expire   the admin expires a node: it needs a new login and its peer sees it expired
#   tailscaled-pair-routes   a subnet route and exit node advertised, approved and seen by the peer
#   via-routes               via grants steer one source to the tagged subnet router and exit node
#   interactive-login        tailscaled without a key; auth register, logout, re-login, expire
#   ephemeral-logout         ephemeral nodes leave the peer's map on logout and after the inactivity timeout
#   derp-pinned              relay only over a pinned self-signed certificate the clients do not trust
#   derp-pinned-forwarder    the same with node B = baseshift forwarder (tsnet 1.86.0)
#   derp-peer-gone           a node leaves the relay and its peer gets PeerGone
#   derp-map-file            clients use a derp.paths map file, and a rewritten file reaches them
#   snap-default             the snap's install hook and default config: loopback only, modes, CLI
#   attack-flood             two nodes exchange hello under 10,000 idle or garbage connections
#   hsapi-client             the Python REST client hsapi-client creates a user and a key, lists a node
#   dns-extra-records        a node resolves names from dns.extra_records_path, and an edit reaches it
#   acme                     the server gets its certificate from Pebble over http-01; two nodes join over it
#   oidc-login               tailscaled logs in through oidc-provider-mock and the confirmation page
#
# Knobs: HEADSCALE_BIN (skips the build), E2E_BUILD=release|debug (default release),
# E2E_SKIP_FETCH=1 (use the clients already in E2E_CLIENTS_DIR), E2E_TEST_TIMEOUT (seconds per
# test, default 600), E2E_LOG_DIR (where each test's output goes; default a new dir under /tmp),
# and the knobs of lib.sh (E2E_TIMEOUT, E2E_KEEP, E2E_VERBOSE, ...).
set -u -o pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$DIR/../.." && pwd)

ALL_TESTS=(two-nodes two-nodes-forwarder two-nodes-magicdns two-nodes-relay two-nodes-restart two-nodes-wrong-key two-nodes-policy
    tailscaled-pair tailscaled-pair-relay tailscaled-pair-routes tailscaled-pair-rename tailscaled-pair-expire via-routes
    interactive-login ephemeral-logout derp-pinned
    derp-pinned-forwarder derp-peer-gone derp-map-file snap-default acme attack-flood hsapi-client
    dns-extra-records oidc-login)

# Prints the command line of one test (environment assignments first), or fails on an unknown name.
test_command() {
    case $1 in
        two-nodes) echo "$DIR/two-nodes.sh" ;;
        two-nodes-forwarder) echo "E2E_NODE_B=forwarder $DIR/two-nodes.sh" ;;
        two-nodes-magicdns) echo "E2E_UPSTREAM=name $DIR/two-nodes.sh" ;;
        two-nodes-relay) echo "E2E_RELAY_ONLY=1 $DIR/two-nodes.sh" ;;
        two-nodes-restart) echo "$DIR/two-nodes.sh --restart" ;;
        two-nodes-wrong-key) echo "$DIR/two-nodes.sh --wrong-key" ;;
        two-nodes-policy) echo "$DIR/two-nodes.sh --policy" ;;
        tailscaled-pair) echo "$DIR/tailscaled-pair.sh" ;;
        tailscaled-pair-relay) echo "E2E_RELAY_ONLY=1 $DIR/tailscaled-pair.sh" ;;
        tailscaled-pair-routes) echo "$DIR/tailscaled-pair.sh --routes" ;;
        tailscaled-pair-rename) echo "$DIR/tailscaled-pair.sh --rename" ;;
        tailscaled-pair-expire) echo "$DIR/tailscaled-pair.sh --expire" ;;
        via-routes) echo "$DIR/via-routes.sh" ;;
        interactive-login) echo "$DIR/interactive-login.sh" ;;
        ephemeral-logout) echo "$DIR/ephemeral-logout.sh" ;;
        derp-pinned) echo "$DIR/derp-pinned.sh" ;;
        derp-pinned-forwarder) echo "E2E_NODE_B=forwarder $DIR/derp-pinned.sh" ;;
        derp-peer-gone) echo "$DIR/derp-peer-gone.sh" ;;
        derp-map-file) echo "$DIR/derp-map-file.sh" ;;
        snap-default) echo "$DIR/snap-default.sh" ;;
        dns-extra-records) echo "$DIR/dns-extra-records.sh" ;;
        acme) echo "$DIR/acme.sh" ;;
        oidc-login) echo "$DIR/oidc-login.sh" ;;
        attack-flood) echo "$DIR/attack-flood.sh" ;;
        hsapi-client) echo "$DIR/hsapi-client.sh" ;;
        *) return 1 ;;
    esac
}

build_server() {
    local mode=${E2E_BUILD:-release}
    echo "e2e: building headscale ($mode)"
    (cd "$REPO" && swift build -c "$mode" --product headscale) || {
        echo "e2e: 'swift build -c $mode --product headscale' failed"
        exit 1
    }
    HEADSCALE_BIN="$(cd "$REPO" && swift build -c "$mode" --show-bin-path)/headscale"
}

# Runs one test under a time limit; its whole output goes to LOG_DIR/NAME.log.
run_test() {
    local name=$1 command log=$LOG_DIR/$1.log start status line
    command=$(test_command "$name")
    start=$SECONDS
    # timeout signals its whole process group, so the test's clients stop with it.
    env HEADSCALE_BIN="$HEADSCALE_BIN" timeout -k 20 "${E2E_TEST_TIMEOUT:-600}" \
        bash -c "$command" >"$log" 2>&1 </dev/null
    status=$?
    line=$(grep -aE '^(PASS|FAIL):' "$log" | tail -n 1)
    if [ "$status" = 0 ] && [ "${line%%:*}" = PASS ]; then
        PASSED+=("$name")
        printf 'PASS  %-24s %4ss  %s\n' "$name" "$((SECONDS - start))" "${line#PASS: }"
        return
    fi
    FAILED+=("$name")
    [ "$status" = 124 ] && line="FAIL: timed out after ${E2E_TEST_TIMEOUT:-600}s (${line#FAIL: })"
    printf 'FAIL  %-24s %4ss  %s\n' "$name" "$((SECONDS - start))" "${line:-FAIL: exit status $status, no result line}"
    echo "----- $name: last 60 lines of $log -----"
    tail -n 60 "$log" | cut -c1-300
    echo "----- end of $name -----"
}

main() {
    local tests=("$@") name
    [ ${#tests[@]} -gt 0 ] || tests=("${ALL_TESTS[@]}")
    for name in "${tests[@]}"; do
        test_command "$name" >/dev/null || {
            echo "e2e: unknown test '$name'; tests are: ${ALL_TESTS[*]}"
            exit 2
        }
    done
    [ "$(id -u)" = 0 ] || { echo "e2e: must run as root (each test makes a network namespace)"; exit 1; }

    if [ -z "${HEADSCALE_BIN:-}" ]; then
        build_server
    fi
    [ -x "$HEADSCALE_BIN" ] || { echo "e2e: HEADSCALE_BIN=$HEADSCALE_BIN is not executable"; exit 1; }
    if [ "${E2E_SKIP_FETCH:-0}" != 1 ]; then
        "$DIR/fetch-clients.sh" >/dev/null || { echo "e2e: fetch-clients.sh failed"; exit 1; }
    fi
    LOG_DIR=${E2E_LOG_DIR:-$(mktemp -d /tmp/headscale-e2e-logs.XXXXXX)}
    mkdir -p "$LOG_DIR"
    echo "e2e: server $HEADSCALE_BIN, logs in $LOG_DIR"

    PASSED=()
    FAILED=()
    for name in "${tests[@]}"; do
        run_test "$name"
    done
    echo "e2e: ${#PASSED[@]} passed, ${#FAILED[@]} failed"
    [ ${#FAILED[@]} -eq 0 ]
}

main "$@"
