#!/usr/bin/env bash
# Usage: Tests/e2e/derp-map-file.sh      (as root)
#
# Clients use a DERP map from a `derp.paths` file, and a changed file reaches them. The server
# keeps its embedded relay on the main listener but does not add its own region
# (automatically_add_embedded_derp_region: false). The YAML file describes that relay as region
# 900 instead, and derp.auto_update_enabled rereads the file every 2 s. Then:
#   with direct UDP off, node B (caddy) reaches node A's "hello" through the relay, and B's home
#   region is derp-900, which exists only in the file;
#   after the file is rewritten to call the relay region 901, the server logs the changed map
#   and node B moves its home to derp-901, so the map change reached its open map stream.
# Knobs: those listed in lib.sh. Prints PASS or "FAIL: ... at stage ...".
# shellcheck disable=SC2317 # functions passed to e2e_wait run indirectly
set -u -o pipefail

NAME=derp-map-file
export E2E_RELAY_ONLY=1

# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$NAME" "$@"

PROXY_PORT=18080

# Writes the DERP map file with the embedded relay as region ID.
write_map() {
    local id=$1 file=$E2E_WORK/server/derp.yaml
    cat >"$file.tmp" <<EOF
regions:
  $id:
    regionid: $id
    regioncode: file$id
    regionname: Relay from the map file
    nodes:
      - name: ${id}a
        regionid: $id
        hostname: 127.0.0.1
        ipv4: 127.0.0.1
        ipv6: none
        stunport: $E2E_STUN_PORT
        derpport: $E2E_HTTPS_PORT
EOF
    mv "$file.tmp" "$file"
}

proxy_says_hello() {
    local body
    body=$(curl -sS -m 5 "http://127.0.0.1:$PROXY_PORT/" 2>>"$E2E_WORK/curl.log")
    echo "$(date +%T) body: ${body:0:80}" >>"$E2E_WORK/curl.log"
    [ "$body" = hello ]
}

node_b_home_is() { grep -aq "home is now derp-$1" "$(e2e_node_log nodeb)"; }

server_logged_change() { grep -aF 'DERP map changed' "$E2E_WORK/server/server.log" | grep -q 'regions=901'; }

e2e_require_clients caddy
mkdir -p -m 700 "$E2E_WORK/server"
e2e_stage "server certificate"
e2e_make_certificate
e2e_write_config
write_map 900
sed -i -e 's/automatically_add_embedded_derp_region: true/automatically_add_embedded_derp_region: false/' \
    -e "s#^  paths: \[\]#  paths: [$E2E_WORK/server/derp.yaml]#" \
    -e 's/^  auto_update_enabled: false/  auto_update_enabled: true\n  update_frequency: 2s/' "$E2E_CONFIG"
grep -q 'update_frequency: 2s' "$E2E_CONFIG" || e2e_fail "could not edit the derp section of $E2E_CONFIG"
e2e_stage "server start"
e2e_server_start
e2e_create_user_and_key

e2e_stage "node A registration"
e2e_caddy_node nodea e2e-a 41641 "$E2E_AUTHKEY"
e2e_wait_node_ipv4 nodea
IP_A=$E2E_IPV4
e2e_stage "node B registration"
e2e_caddy_node nodeb e2e-b 41642 "$E2E_AUTHKEY" "$PROXY_PORT" "http://$IP_A:80"
e2e_wait_node_ipv4 nodeb

e2e_stage "proxy B -> A returns hello through region 900"
e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid nodeb)" proxy_says_hello ||
    e2e_fail "GET http://127.0.0.1:$PROXY_PORT/ did not return 'hello' within ${E2E_TIMEOUT}s (last: $(tail -n 1 "$E2E_WORK/curl.log"))"
node_b_home_is 900 || e2e_fail "node B's home region is not derp-900 from the map file"
if grep -aq 'derp-999' "$(e2e_node_log nodeb)"; then
    e2e_fail "node B knows region 999, which automatically_add_embedded_derp_region: false should hide"
fi

e2e_stage "rewritten map file reaches node B"
write_map 901
e2e_wait 20 "" server_logged_change || e2e_fail "the server did not log 'DERP map changed' with region 901 within 20 s"
e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid nodeb)" node_b_home_is 901 ||
    e2e_fail "node B did not move its home to derp-901 after the map file changed"
e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid nodeb)" proxy_says_hello ||
    e2e_fail "GET http://127.0.0.1:$PROXY_PORT/ did not return 'hello' through region 901"
e2e_pass "A=$IP_A; home derp-900 from the file, then derp-901 after the file changed"
