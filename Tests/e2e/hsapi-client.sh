#!/usr/bin/env bash
# Usage: Tests/e2e/hsapi-client.sh      (as root; after Tests/e2e/setup-hsapi-client.sh)
#
# The third-party Python REST client hsapi-client 0.9.9 (PyPI) administers the server over HTTPS
# with an API key, inside a fresh loopback-only network namespace:
#   `headscale apikeys create` makes the key the client sends as a bearer token;
#   a wrong key gets HTTP 401;
#   the client creates a user, lists the users, finds no nodes and creates a reusable pre-auth key;
#   a stock tailscaled 1.96.4 logs in with that key;
#   the client's node list shows the node, owned by the user, with its addresses.
# Knobs: HSAPI_VENV (default /var/cache/headscale-e2e/hsapi-venv), and those listed in lib.sh.
# Prints PASS or "FAIL: ... at stage ...".
set -u -o pipefail

# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init hsapi-client "$@"

VENV=${HSAPI_VENV:-/var/cache/headscale-e2e/hsapi-venv}
HOST=hsapi-node
USER_NAME=hsapi-user

# Runs the driver with the venv's Python: hsapi_client ARGS...
hsapi_client() {
    HSAPI_SERVER=$E2E_SERVER_URL HSAPI_API_TOKEN=$API_KEY HSAPI_CA_FILE=$E2E_CERT \
        timeout 60 "$VENV/bin/python" "$E2E_DIR/hsapi-client.py" "$@" 2>>"$E2E_WORK/hsapi.log"
}

e2e_stage "hsapi-client installed"
"$VENV/bin/python" -c 'import hsapi_client' 2>"$E2E_WORK/hsapi.log" ||
    e2e_fail "hsapi-client does not import from $VENV: $(tail -n 1 "$E2E_WORK/hsapi.log"); run Tests/e2e/setup-hsapi-client.sh"

e2e_require_clients tailscaled tailscale
e2e_server_setup

e2e_stage "API key from the CLI"
e2e_hs_to "$E2E_WORK/apikey.out" apikeys create --expiration 1h
API_KEY=$(tr -d '[:space:]' <"$E2E_WORK/apikey.out")
case $API_KEY in
    hskey-api-*) ;;
    *) e2e_fail "'headscale apikeys create' printed '${API_KEY:0:12}...', not an hskey-api- key" ;;
esac

e2e_stage "wrong API key is rejected"
hsapi_client bad-token || e2e_fail "the wrong-key check failed: $(tail -n 1 "$E2E_WORK/hsapi.log")"

e2e_stage "user and pre-auth key through hsapi-client"
AUTHKEY=$(hsapi_client prepare "$USER_NAME") ||
    e2e_fail "creating the user and key with hsapi-client failed: $(tail -n 1 "$E2E_WORK/hsapi.log")"
e2e_hs_to "$E2E_WORK/users.json" users list -o json
python3 "$E2E_DIR/hsjson.py" user-id "$USER_NAME" "$E2E_WORK/users.json" >/dev/null 2>>"$E2E_WORK/cli.log" ||
    e2e_fail "'headscale users list' does not show the user $USER_NAME that hsapi-client created"

e2e_stage "tailscaled logs in with the key"
e2e_tailscaled_node hsapi 41641
e2e_ts hsapi up --login-server="$E2E_SERVER_URL" --authkey="$AUTHKEY" --hostname="$HOST" \
    --accept-dns=false --timeout="${E2E_TIMEOUT}s" >"$E2E_WORK/up.log" 2>&1 ||
    e2e_fail "'tailscale up' with the hsapi-client key failed: $(tail -n 2 "$E2E_WORK/up.log" | tr '\n' ' ')"

e2e_stage "hsapi-client lists the node"
LISTED=$(hsapi_client nodes "$USER_NAME" "$HOST") ||
    e2e_fail "hsapi-client's node list check failed: $(tail -n 1 "$E2E_WORK/hsapi.log")"
IP=$(e2e_ts hsapi ip -4 2>/dev/null | head -n 1)
case ",$(echo "$LISTED" | cut -f3)," in
    *",$IP,"*) ;;
    *) e2e_fail "hsapi-client lists $HOST with addresses $(echo "$LISTED" | cut -f3), without its tailnet IPv4 '$IP'" ;;
esac

e2e_pass "hsapi-client created user $USER_NAME and a key; node $HOST listed as $LISTED"
