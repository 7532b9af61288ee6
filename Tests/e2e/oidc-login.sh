#!/usr/bin/env bash
# Usage: Tests/e2e/oidc-login.sh      (as root)
#
# An interactive login through OpenID Connect with the stock tailscaled 1.96.4: the server's
# oidc.issuer is oidc-provider-mock (PyPI) on 127.0.0.1:9400. `tailscale up` prints an AuthURL;
# curl plays the browser: the AuthURL redirects to the provider, the provider's login form is
# posted for subject alice, the callback shows the machine to confirm, and the confirmation
# registers it. The daemon must reach Running as user alice, whom the login created from the
# provider's claims. A second browser without the login's cookies is refused at the callback.
# Knobs: those listed in lib.sh. Prints PASS or "FAIL: ... at stage ...".
# shellcheck disable=SC2317 # functions passed to e2e_wait run indirectly
set -u -o pipefail

# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init oidc-login "$@"

HOST=oidc-a
PROVIDER=http://127.0.0.1:9400
UP_LOG=""

auth_url_printed() {
    AUTH_URL=$(grep -aoE 'https://[^[:space:]]+/register/hskey-authreq-[A-Za-z0-9_-]{24}' "$UP_LOG" | head -n 1)
    AUTH_ID=${AUTH_URL##*/}
    [ -n "$AUTH_URL" ]
}

backend_state() {
    e2e_ts oidca status --json 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin).get("BackendState",""))' 2>/dev/null
}

backend_state_is() { [ "$(backend_state)" = "$1" ]; }

provider_listening() { curl -fsS -m 2 -o /dev/null "$PROVIDER/.well-known/openid-configuration" 2>/dev/null; }

# Prints the Location header of a response saved by curl -D.
location_in() { tr -d '\r' <"$1" | awk 'tolower($1) == "location:" { print $2 }' | tail -n 1; }

python3 -c 'import oidc_provider_mock' 2>/dev/null || e2e_fail "python3 cannot import oidc_provider_mock; pip install oidc-provider-mock"
e2e_require_clients tailscaled tailscale

e2e_stage "identity provider"
e2e_spawn "oidc-provider-mock" "$E2E_WORK/provider.log" -- python3 -m oidc_provider_mock --host 127.0.0.1 --port 9400
e2e_wait 30 "$E2E_LAST_PID" provider_listening || e2e_fail "oidc-provider-mock did not answer at $PROVIDER within 30 s"
curl -fsS -m 5 -X PUT -H 'Content-Type: application/json' \
    -d '{"email": "alice@example.com", "email_verified": true, "preferred_username": "alice", "name": "Alice"}' \
    "$PROVIDER/users/alice-sub" || e2e_fail "could not set the claims of subject alice-sub at the provider"

mkdir -p -m 700 "$E2E_WORK/server"
printf 'mock-client-secret\n' >"$E2E_WORK/server/oidc_secret"
chmod 0600 "$E2E_WORK/server/oidc_secret"
export E2E_SERVER_EXTRA="oidc:
  issuer: $PROVIDER
  client_id: headscale-e2e
  client_secret_path: $E2E_WORK/server/oidc_secret
  allowed_domains: [example.com]
  pkce:
    enabled: true"
e2e_server_setup

e2e_stage "start tailscaled"
e2e_tailscaled_node oidca 41641
UP_LOG=$(e2e_node_dir oidca)/up.log

e2e_stage "tailscale up prints an AuthURL"
e2e_spawn "tailscale up $HOST" "$UP_LOG" -- e2e_ts oidca up --login-server="$E2E_SERVER_URL" \
    --hostname="$HOST" --accept-dns=false --timeout="$((E2E_TIMEOUT * 2))s"
UP_PID=$E2E_LAST_PID
e2e_wait "$E2E_TIMEOUT" "$UP_PID" auth_url_printed ||
    e2e_fail "'tailscale up' printed no $E2E_SERVER_URL/register/hskey-authreq-... URL: $(tail -n 3 "$UP_LOG" | tr '\n' ' ')"

e2e_stage "browser goes to the provider"
JAR=$E2E_WORK/cookies.txt
curl -sS -m 10 --cacert "$E2E_CERT" -c "$JAR" -D "$E2E_WORK/step1.head" -o /dev/null "$AUTH_URL" ||
    e2e_fail "GET $AUTH_URL failed"
AUTHORIZE=$(location_in "$E2E_WORK/step1.head")
case $AUTHORIZE in
    "$PROVIDER/oauth2/authorize?"*) ;;
    *) e2e_fail "the AuthURL redirected to '$AUTHORIZE', not to the provider's authorization endpoint" ;;
esac

e2e_stage "provider login as alice"
curl -sS -m 10 -D "$E2E_WORK/step2.head" -o /dev/null --data-urlencode sub=alice-sub "$AUTHORIZE" ||
    e2e_fail "posting the provider's login form failed"
CALLBACK=$(location_in "$E2E_WORK/step2.head")
case $CALLBACK in
    "$E2E_SERVER_URL/oidc/callback?"*) ;;
    *) e2e_fail "the provider redirected to '$CALLBACK', not to $E2E_SERVER_URL/oidc/callback" ;;
esac

e2e_stage "callback without the login's cookie is refused"
STRANGER=$(curl -sS -m 10 --cacert "$E2E_CERT" -o /dev/null -w '%{http_code}' "$CALLBACK")
[ "$STRANGER" = 400 ] || e2e_fail "a browser without the state cookie got status $STRANGER at the callback, not 400"

e2e_stage "callback shows the machine to confirm"
# The refused attempt above did not use up the login: the state is taken only with its cookie.
curl -sS -m 20 --cacert "$E2E_CERT" -b "$JAR" -c "$JAR" -o "$E2E_WORK/confirm.html" "$CALLBACK" ||
    e2e_fail "GET the callback failed"
grep -q "$HOST" "$E2E_WORK/confirm.html" || e2e_fail "the confirmation page does not name $HOST: $(head -c 300 "$E2E_WORK/confirm.html")"
TOKEN=$(grep -oE 'name="token" value="[^"]+"' "$E2E_WORK/confirm.html" | sed 's/.*value="//; s/"$//')
[ -n "$TOKEN" ] || e2e_fail "the confirmation page has no token field"
backend_state_is NeedsLogin || e2e_fail "before the confirmation the daemon is in '$(backend_state)', not NeedsLogin"

e2e_stage "confirmation registers the machine"
STATUS=$(curl -sS -m 20 --cacert "$E2E_CERT" -b "$JAR" -o "$E2E_WORK/done.html" -w '%{http_code}' \
    --data-urlencode "token=$TOKEN" "$E2E_SERVER_URL/register/confirm/$AUTH_ID")
[ "$STATUS" = 200 ] || e2e_fail "the confirmation answered $STATUS: $(head -c 300 "$E2E_WORK/done.html")"
e2e_wait "$E2E_TIMEOUT" "" backend_state_is Running ||
    e2e_fail "the daemon is in '$(backend_state)', not Running, ${E2E_TIMEOUT}s after the confirmation"
wait "$UP_PID" || e2e_fail "'tailscale up' failed: $(tail -n 2 "$UP_LOG" | tr '\n' ' ')"

e2e_stage "the node belongs to the provider's user"
e2e_hs_to "$E2E_WORK/users.json" users list -o json
python3 - "$E2E_WORK/users.json" <<'PY' || e2e_fail "no user alice with provider oidc and email alice@example.com: $(cat "$E2E_WORK/users.json")"
import json, sys
users = json.load(open(sys.argv[1]))
users = users.get("users", users) if isinstance(users, dict) else users
sys.exit(0 if any(u.get("name") == "alice" and u.get("provider") == "oidc" and u.get("email") == "alice@example.com" for u in users) else 1)
PY
e2e_hs_to "$E2E_WORK/nodes.json" nodes list -o json
python3 - "$E2E_WORK/nodes.json" "$HOST" <<'PY' || e2e_fail "node $HOST is not owned by alice: $(head -c 400 "$E2E_WORK/nodes.json")"
import json, sys
nodes = json.load(open(sys.argv[1]))
nodes = nodes.get("nodes", nodes) if isinstance(nodes, dict) else nodes
sys.exit(0 if any(n.get("name") == sys.argv[2] and (n.get("user") or {}).get("name") == "alice" for n in nodes) else 1)
PY
e2e_pass "tailscaled logged in through OIDC as alice; a cookie-less callback was refused"
