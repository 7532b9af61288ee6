#!/usr/bin/env bash
# Usage: Tests/e2e/attack-flood.sh      (as root)
#
# Two real Tailscale clients join and exchange "hello" while 10,000 idle or garbage TCP
# connections from 200 loopback addresses (127.1.0.0/16) press on the server's main listener,
# all inside a fresh loopback-only network namespace:
#   attack-flood.py opens the connections and reopens those the server closes, which keeps the
#   listener at its pending cap (2,048 by default);
#   node A (caddy) serves "hello" on its tailnet port 80, node B (caddy) proxies 127.0.0.1:18080 to it;
#   `headscale nodes list` shows both online; curl through B returns "hello";
#   the server log names flood sources in warnings: the listener's eviction warning (one per 10 s)
#   and per-source offender warnings (one per source and kind per 10 s); the server is still
#   healthy at the end.
# Knobs: E2E_FLOOD_CONNECTIONS (default 10000), E2E_FLOOD_SOURCES (default 200), and those of lib.sh.
# Prints PASS or "FAIL: ... at stage ...", exits 0 or 1.
# shellcheck disable=SC2317 # functions passed to e2e_wait run indirectly
set -u -o pipefail

# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init attack-flood "$@"

CONNECTIONS=${E2E_FLOOD_CONNECTIONS:-10000}
SOURCES=${E2E_FLOOD_SOURCES:-200}
PROXY_PORT=18080
STATUS=$E2E_WORK/flood-status.txt

# Both the flood generator and the server need a descriptor per connection, plus headroom.
ulimit -n $((CONNECTIONS + 4096)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"

proxy_returns_hello() {
    local body
    body=$(curl -sS -m 5 "http://127.0.0.1:$PROXY_PORT/" 2>>"$E2E_WORK/curl.log")
    [ "$body" = hello ]
}

# True once the generator has opened every connection once (it writes the status file only then)
# with at most a tenth of the attempts failed. How many stay open depends on the server: it
# closes the oldest unfinished connections beyond its pending cap, and the generator reopens them.
flood_is_up() {
    [ -s "$STATUS" ] || return 1
    local failed
    failed=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' "$STATUS")
    [ "${failed:-$CONNECTIONS}" -le $((CONNECTIONS / 10)) ]
}

e2e_require_clients caddy
e2e_server_setup
SERVER_LOG=$E2E_WORK/server/server.log
STARTED=$(date +%s)

e2e_stage "flood of $CONNECTIONS connections from $SOURCES addresses"
e2e_spawn flood "$E2E_WORK/flood.log" -- python3 "$E2E_DIR/attack-flood.py" \
    "$E2E_HTTPS_PORT" "$CONNECTIONS" "$STATUS" "$SOURCES"
FLOOD_PID=$E2E_LAST_PID
e2e_wait "$E2E_TIMEOUT" "$FLOOD_PID" flood_is_up ||
    e2e_fail "the flood generator did not open $CONNECTIONS connections with at most a tenth failing ($(cat "$STATUS" 2>/dev/null); $(tail -n 3 "$E2E_WORK/flood.log"))"
e2e_log "flood: $(cat "$STATUS")"

e2e_stage "node A registration under the flood"
e2e_caddy_node nodea e2e-a 41641 "$E2E_AUTHKEY"
e2e_wait_node_ipv4 nodea
IP_A=$E2E_IPV4

e2e_stage "node B registration under the flood"
e2e_caddy_node nodeb e2e-b 41642 "$E2E_AUTHKEY" "$PROXY_PORT" "http://$IP_A:80"
e2e_wait_node_ipv4 nodeb

e2e_stage "nodes list shows both nodes"
e2e_expect_nodes e2e-a,e2e-b

e2e_stage "proxy B -> A returns hello under the flood"
e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid nodeb)" proxy_returns_hello ||
    e2e_fail "GET http://127.0.0.1:$PROXY_PORT/ did not return 'hello' within ${E2E_TIMEOUT}s"

e2e_stage "flood still running"
kill -0 "$FLOOD_PID" 2>/dev/null || e2e_fail "the flood generator exited early: $(tail -n 3 "$E2E_WORK/flood.log")"
e2e_log "flood: $(cat "$STATUS")"

e2e_stage "server names flood sources in rate-limited warnings"
# Under this churn the listener closes the oldest unfinished connections to make room, and
# logs one warning per 10 s naming a source. Connections that outlive the 10 s header read
# timeout add per-source warnings (kind=http-slow-head), one per source per 10 s.
named_source() { grep -aq 'level=warning.*source=127\.1\.' "$SERVER_LOG"; }
e2e_wait "$E2E_TIMEOUT" "$E2E_SERVER_PID" named_source ||
    e2e_fail "no warning naming a 127.1.x.x flood source in the server log"
ELAPSED=$(($(date +%s) - STARTED))
ALLOWED=$((ELAPSED / 10 + 1))
LISTENER_LINES=$(grep -a 'level=warning' "$SERVER_LOG" | grep -ac "listener=127\.0\.0\.1:$E2E_HTTPS_PORT ")
e2e_log "listener warnings: $LISTENER_LINES in ${ELAPSED}s (allowed $ALLOWED)"
[ "$LISTENER_LINES" -le "$ALLOWED" ] ||
    e2e_fail "the listener logged $LISTENER_LINES warnings in ${ELAPSED}s; the limit is one per 10 s"
WORST=$(grep -a 'level=warning.*kind=' "$SERVER_LOG" | grep -ao 'source=[^ ]* kind=[^ ]*' | sort | uniq -c | sort -rn |
    head -n 1)
e2e_log "busiest source and kind: ${WORST:-none}"
[ -z "$WORST" ] || [ "$(echo "$WORST" | awk '{print $1 + 0}')" -le "$ALLOWED" ] ||
    e2e_fail "one source got more than $ALLOWED warnings of one kind in ${ELAPSED}s: $WORST"

e2e_stage "server healthy after the flood"
e2e_stop "$FLOOD_PID" || true
e2e_wait "$E2E_TIMEOUT" "$E2E_SERVER_PID" e2e_server_healthy || e2e_fail "GET /health failed after the flood stopped"
e2e_pass "A=$IP_A, $(cat "$STATUS")"
