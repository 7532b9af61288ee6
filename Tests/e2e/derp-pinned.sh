#!/usr/bin/env bash
# Usage: Tests/e2e/derp-pinned.sh      (as root)
#
# The embedded DERP relay over a pinned self-signed certificate, with clients that do not trust it:
# the server listens with TLS on 127.0.0.1:8443 using a self-signed certificate, so its DERP map
# gives the embedded node `CertName: sha256-raw:<hex>`. Every client's SSL_CERT_FILE contains an
# unrelated certificate instead of ours. Then:
#   a probe node with control URL https://127.0.0.1:8443 fails certificate verification, which
#   shows the clients really cannot verify the server through a CA;
#   the real nodes use control URL http://127.0.0.1:8080, a plain-TCP front door (control-front.py)
#   relaying to the TLS listener. Control needs no certificate because Noise encrypts it, and only
#   DERP uses TLS, verified by the pinned hash alone;
#   with direct UDP off, node B (caddy, tsnet 1.90.9; with E2E_NODE_B=forwarder the forwarder,
#   tsnet 1.86.0) reaches node A's "hello" through the relay, and no node used a direct path.
# Knobs: E2E_NODE_B=caddy|forwarder and those listed in lib.sh. Prints PASS or "FAIL: ... at stage ...".
# shellcheck disable=SC2317 # functions passed to e2e_wait run indirectly
set -u -o pipefail

NODE_B=${E2E_NODE_B:-caddy}
case $NODE_B in
    caddy | forwarder) ;;
    *) echo "E2E_NODE_B='$NODE_B' is invalid; use caddy or forwarder" >&2; exit 2 ;;
esac
NAME=derp-pinned
[ "$NODE_B" = forwarder ] && NAME+=-forwarder
export E2E_RELAY_ONLY=1

# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$NAME" "$@"

FRONT_PORT=8080
PROXY_PORT=18080

proxy_says_hello() {
    local body
    body=$(curl -sS -m 5 "http://127.0.0.1:$PROXY_PORT/" 2>>"$E2E_WORK/curl.log")
    echo "$(date +%T) body: ${body:0:80}" >>"$E2E_WORK/curl.log"
    [ "$body" = hello ]
}

front_answers() { curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$FRONT_PORT/health" 2>/dev/null; }

probe_rejected_certificate() {
    grep -aqE 'x509|certificate signed by unknown authority|failed to verify' "$(e2e_node_log probe)" 2>/dev/null
}

e2e_require_clients caddy
[ "$NODE_B" = forwarder ] && e2e_require_clients ts-forwarder
mkdir -p -m 700 "$E2E_WORK/server"

e2e_stage "server certificate"
e2e_make_certificate
SERVER_CERT=$E2E_CERT
PIN=$(openssl x509 -in "$SERVER_CERT" -outform DER | sha256sum | cut -d' ' -f1)
e2e_write_config
e2e_stage "server start"
e2e_server_start
e2e_create_user_and_key

e2e_stage "DERP map pins the certificate"
grep -aq "sha256-raw:$PIN" "$E2E_WORK/server/server.log" ||
    e2e_fail "the server log does not show cert_name sha256-raw:$PIN for the embedded region"

e2e_stage "clients trust another certificate"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=decoy \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$E2E_WORK/decoy.key" -out "$E2E_WORK/decoy.pem" \
    >"$E2E_WORK/decoy.log" 2>&1 || e2e_fail "openssl could not make the decoy certificate"
# e2e_client_env gives every client SSL_CERT_FILE=$E2E_CERT.
E2E_CERT=$E2E_WORK/decoy.pem
if curl -fsS -m 5 --cacert "$E2E_CERT" -o /dev/null "$E2E_SERVER_URL/health" 2>/dev/null; then
    e2e_fail "curl verified $E2E_SERVER_URL with the decoy certificate; the test would prove nothing"
fi

e2e_stage "HTTPS control fails verification"
e2e_caddy_node probe e2e-probe 41643 "$E2E_AUTHKEY"
e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid probe)" probe_rejected_certificate ||
    e2e_fail "a node with control URL $E2E_SERVER_URL never logged a certificate verification failure"
e2e_stop "$(e2e_node_pid probe)" || true
e2e_log "HTTPS control without a trusted certificate fails as expected"

e2e_stage "plain control front door"
e2e_spawn "control front" "$E2E_WORK/control-front.log" -- python3 "$E2E_DIR/control-front.py" \
    "$FRONT_PORT" "$E2E_HTTPS_PORT"
e2e_wait 10 "$E2E_LAST_PID" front_answers || e2e_fail "control-front.py did not relay GET /health within 10 s"
E2E_SERVER_URL=http://127.0.0.1:$FRONT_PORT

e2e_stage "node A registration"
e2e_caddy_node nodea e2e-a 41641 "$E2E_AUTHKEY"
e2e_wait_node_ipv4 nodea
IP_A=$E2E_IPV4

e2e_stage "node B registration"
if [ "$NODE_B" = forwarder ]; then
    e2e_forwarder_node nodeb e2e-b "$E2E_AUTHKEY" "$PROXY_PORT" "$IP_A"
else
    e2e_caddy_node nodeb e2e-b 41642 "$E2E_AUTHKEY" "$PROXY_PORT" "http://$IP_A:80"
fi
e2e_wait_node_ipv4 nodeb

e2e_stage "proxy B -> A returns hello over the pinned relay"
e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid nodeb)" proxy_says_hello ||
    e2e_fail "GET http://127.0.0.1:$PROXY_PORT/ did not return 'hello' within ${E2E_TIMEOUT}s (last: $(tail -n 1 "$E2E_WORK/curl.log"))"
DIRECT="$(e2e_node_direct_paths nodea)$(e2e_node_direct_paths nodeb)"
[ -z "$DIRECT" ] || e2e_fail "direct UDP is off but the nodes used direct paths: $DIRECT"
for node in nodea nodeb; do
    if grep -aqE 'cert hash does not match|unexpected multiple certs|expected cert not presented' "$(e2e_node_log "$node")"; then
        e2e_fail "node $node rejected the pinned certificate: $(grep -aoE 'cert hash does not match|unexpected multiple certs|expected cert not presented' "$(e2e_node_log "$node")" | head -n 1)"
    fi
done
grep -aq 'home is now derp-999' "$(e2e_node_log nodeb)" ||
    e2e_fail "node B never made the embedded region derp-999 its home"
grep -aq 'DERP client connected' "$E2E_WORK/server/server.log" ||
    e2e_fail "the server log shows no DERP client connected"
e2e_pass "A=$IP_A B=$NODE_B, relay pinned by sha256-raw:${PIN:0:12}..."
