#!/usr/bin/env bash
# Usage: Tests/e2e/acme.sh      (as root)
#
# A certificate from ACME: Debian's Pebble plays the certificate authority on 127.0.0.1:14000
# and validates http-01 challenges for "localhost" at 127.0.0.1:5002, where the server's
# tls_letsencrypt_listen answers them. The server starts with no certificate file, obtains one
# for localhost, and serves HTTPS with it; then two nodes (caddy, tsnet 1.90.9) trust only
# Pebble's root, join over https://localhost:8443, and node B reaches node A's "hello".
# A restart reuses the cached certificate instead of requesting another.
# Knobs: those listed in lib.sh. Prints PASS or "FAIL: ... at stage ...".
# shellcheck disable=SC2317 # functions passed to e2e_wait run indirectly
set -u -o pipefail

# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init acme "$@"

PEBBLE_PORT=14000
PEBBLE_MANAGEMENT_PORT=15000
CHALLENGE_PORT=5002
PROXY_PORT=18080
E2E_SERVER_URL="https://localhost:$E2E_HTTPS_PORT"

proxy_says_hello() {
    local body
    body=$(curl -sS -m 5 "http://127.0.0.1:$PROXY_PORT/" 2>>"$E2E_WORK/curl.log")
    echo "$(date +%T) body: ${body:0:80}" >>"$E2E_WORK/curl.log"
    [ "$body" = hello ]
}

pebble_listening() {
    curl -fsS -m 2 --cacert "$E2E_WORK/pebble/ca.pem" -o /dev/null "https://localhost:$PEBBLE_PORT/dir" 2>/dev/null
}

# Pebble's own HTTPS listener gets a certificate from a throw-away CA of the test.
start_pebble() {
    local dir=$E2E_WORK/pebble
    mkdir -p "$dir"
    {
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=pebble-test-ca \
            -keyout "$dir/ca.key" -out "$dir/ca.pem" &&
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
                -keyout "$dir/listener.key" -out "$dir/listener.csr" &&
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$dir/san.ext" &&
            openssl x509 -req -in "$dir/listener.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
                -days 2 -extfile "$dir/san.ext" -out "$dir/listener.pem"
    } >"$dir/openssl.log" 2>&1 || e2e_fail "openssl could not make Pebble's certificate: $(tail -n 2 "$dir/openssl.log")"
    cat >"$dir/pebble.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$PEBBLE_PORT", "managementListenAddress": "127.0.0.1:$PEBBLE_MANAGEMENT_PORT",
 "certificate": "$dir/listener.pem", "privateKey": "$dir/listener.key", "httpPort": $CHALLENGE_PORT,
 "tlsPort": 5001, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
    e2e_spawn pebble "$dir/pebble.log" -- env PEBBLE_VA_NOSLEEP=1 pebble -config "$dir/pebble.json" -strict
    e2e_wait 20 "$E2E_LAST_PID" pebble_listening || e2e_fail "Pebble did not answer on port $PEBBLE_PORT within 20 s"
    curl -fsS --cacert "$dir/ca.pem" -o "$dir/root.pem" "https://localhost:$PEBBLE_MANAGEMENT_PORT/roots/0" ||
        e2e_fail "could not fetch Pebble's root certificate"
}

command -v pebble >/dev/null || e2e_fail "pebble not found; install Debian's pebble package"
e2e_require_clients caddy
mkdir -p -m 700 "$E2E_WORK/server"

e2e_stage "ACME server"
start_pebble
# Everything that verifies the server (curl, the clients) trusts Pebble's root and nothing else.
E2E_CERT=$E2E_WORK/pebble/root.pem

e2e_stage "server config"
e2e_write_config
sed -i -e '/^tls_cert_path:/d' -e '/^tls_key_path:/d' "$E2E_CONFIG"
cat >>"$E2E_CONFIG" <<YAML
acme_url: https://localhost:$PEBBLE_PORT/dir
acme_email: admin@example.com
tls_letsencrypt_hostname: localhost
tls_letsencrypt_cache_dir: $E2E_WORK/server/acme
tls_letsencrypt_challenge_type: HTTP-01
tls_letsencrypt_listen: 127.0.0.1:$CHALLENGE_PORT
YAML

e2e_stage "server obtains a certificate"
# The server trusts Pebble's listener CA for the ACME requests themselves.
SSL_CERT_FILE=$E2E_WORK/pebble/ca.pem e2e_server_start
[ -s "$E2E_WORK/server/acme/localhost.crt" ] || e2e_fail "no certificate in the ACME cache folder"
openssl verify -CAfile "$E2E_CERT" -untrusted "$E2E_WORK/server/acme/localhost.crt" \
    "$E2E_WORK/server/acme/localhost.crt" >"$E2E_WORK/verify.log" 2>&1 ||
    e2e_fail "the cached certificate does not chain to Pebble's root: $(tail -n 1 "$E2E_WORK/verify.log")"
e2e_create_user_and_key

e2e_stage "node A registration"
e2e_caddy_node nodea e2e-a 41641 "$E2E_AUTHKEY"
e2e_wait_node_ipv4 nodea
IP_A=$E2E_IPV4
e2e_stage "node B registration"
e2e_caddy_node nodeb e2e-b 41642 "$E2E_AUTHKEY" "$PROXY_PORT" "http://$IP_A:80"
e2e_wait_node_ipv4 nodeb

e2e_stage "proxy B -> A returns hello"
e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid nodeb)" proxy_says_hello ||
    e2e_fail "GET http://127.0.0.1:$PROXY_PORT/ did not return 'hello' within ${E2E_TIMEOUT}s (last: $(tail -n 1 "$E2E_WORK/curl.log"))"

e2e_stage "restart reuses the cached certificate"
before=$(sha256sum <"$E2E_WORK/server/acme/localhost.crt")
e2e_server_stop
SSL_CERT_FILE=$E2E_WORK/pebble/ca.pem e2e_server_start
[ "$(sha256sum <"$E2E_WORK/server/acme/localhost.crt")" = "$before" ] ||
    e2e_fail "the restarted server requested a new certificate instead of using the cached one"
grep -aq 'using the cached ACME certificate' "$E2E_WORK/server/server.log" ||
    e2e_fail "the server log does not say it used the cached certificate"
e2e_pass "A=$IP_A; certificate for localhost from Pebble over http-01, reused after a restart"
