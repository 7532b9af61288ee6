#!/usr/bin/env bash
# Usage: Tests/e2e/interactive-login.sh      (as root)
#
# A stock tailscaled 1.96.4 logs in WITHOUT an auth key, inside a fresh loopback-only network
# namespace, and an administrator lets it in with the CLI:
#   `tailscale up --login-server ...` prints an AuthURL <server_url>/register/hskey-authreq-<24>;
#   GET on that URL serves a page naming `headscale auth register --auth-id <id> --user`;
#   `headscale auth register --auth-id <id> --user e2e` lets the waiting `tailscale up` finish;
#   the daemon reaches Running and `headscale nodes list` shows the node online;
#   `tailscale logout` leaves the daemon in NeedsLogin and the node expired in `nodes list`;
#   `tailscale up --authkey` as the same user revives the same node with the same address;
#   `headscale nodes expire` sends the daemon back to NeedsLogin.
# Knobs: those listed in lib.sh. Prints PASS or "FAIL: ... at stage ...".
# shellcheck disable=SC2317 # functions passed to e2e_wait run indirectly
set -u -o pipefail

# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init interactive-login "$@"

HOST=login-a
UP_LOG=""

# True once `tailscale up` has printed an AuthURL; sets AUTH_URL and AUTH_ID.
auth_url_printed() {
    AUTH_URL=$(grep -aoE 'https://[^[:space:]]+/register/hskey-authreq-[A-Za-z0-9_-]{24}' "$UP_LOG" | head -n 1)
    AUTH_ID=${AUTH_URL##*/}
    [ -n "$AUTH_URL" ]
}

# Prints the daemon's BackendState from `tailscale status --json`.
backend_state() {
    e2e_ts logina status --json 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin).get("BackendState",""))' 2>/dev/null
}

backend_state_is() { [ "$(backend_state)" = "$1" ]; }

# True when `nodes list` shows HOST with an expiry that has passed.
node_expired() {
    e2e_nodes_list "$E2E_WORK/nodes.json" || return 1
    python3 - "$E2E_WORK/nodes.json" "$HOST" <<'PY'
import datetime, json, sys
doc = json.load(open(sys.argv[1]))
nodes = doc.get("nodes", doc) if isinstance(doc, dict) else doc
now = datetime.datetime.now(datetime.timezone.utc)
for node in nodes or []:
    if node.get("name") != sys.argv[2]:
        continue
    expiry = node.get("expiry")
    if isinstance(expiry, dict):
        when = datetime.datetime.fromtimestamp(int(expiry.get("seconds", 0)), datetime.timezone.utc)
    elif isinstance(expiry, str) and expiry:
        when = datetime.datetime.fromisoformat(expiry.replace("Z", "+00:00"))
    else:
        sys.exit(1)
    sys.exit(0 if when <= now else 1)
sys.exit(1)
PY
}

e2e_require_clients tailscaled tailscale
e2e_server_setup

e2e_stage "start tailscaled"
e2e_tailscaled_node logina 41641
UP_LOG=$(e2e_node_dir logina)/up.log

e2e_stage "tailscale up without an auth key prints an AuthURL"
e2e_spawn "tailscale up $HOST" "$UP_LOG" -- e2e_ts logina up --login-server="$E2E_SERVER_URL" \
    --hostname="$HOST" --accept-dns=false --timeout="$((E2E_TIMEOUT * 2))s"
UP_PID=$E2E_LAST_PID
e2e_wait "$E2E_TIMEOUT" "$UP_PID" auth_url_printed ||
    e2e_fail "'tailscale up' printed no $E2E_SERVER_URL/register/hskey-authreq-... URL: $(tail -n 3 "$UP_LOG" | tr '\n' ' ')"
case $AUTH_URL in
    "$E2E_SERVER_URL/register/"*) ;;
    *) e2e_fail "the AuthURL $AUTH_URL does not start with the server URL $E2E_SERVER_URL/register/" ;;
esac
e2e_log "AuthURL $AUTH_URL"

e2e_stage "registration page names the command"
curl -fsS -m 5 --cacert "$E2E_CERT" "$AUTH_URL" >"$E2E_WORK/register-page.html" 2>>"$E2E_WORK/curl.log" ||
    e2e_fail "GET $AUTH_URL failed: $(tail -n 1 "$E2E_WORK/curl.log")"
grep -q "headscale auth register --auth-id $AUTH_ID --user" "$E2E_WORK/register-page.html" ||
    e2e_fail "the page at $AUTH_URL does not name 'headscale auth register --auth-id $AUTH_ID --user'"
backend_state_is NeedsLogin || e2e_fail "before approval the daemon is in '$(backend_state)', not NeedsLogin"

e2e_stage "headscale auth register"
e2e_hs_to "$E2E_WORK/auth-register.out" auth register --auth-id "$AUTH_ID" --user e2e

e2e_stage "tailscale up finishes"
e2e_wait "$E2E_TIMEOUT" "" backend_state_is Running ||
    e2e_fail "the daemon is in '$(backend_state)', not Running, ${E2E_TIMEOUT}s after 'auth register'"
wait "$UP_PID"
UP_STATUS=$?
[ "$UP_STATUS" = 0 ] || e2e_fail "'tailscale up' exited with status $UP_STATUS: $(tail -n 2 "$UP_LOG" | tr '\n' ' ')"
IP=$(e2e_ts logina ip -4 2>/dev/null | head -n 1)
[ -n "$IP" ] || e2e_fail "'tailscale ip -4' printed no address after the login"

e2e_stage "nodes list shows the node"
e2e_expect_nodes "$HOST"
[ "$(e2e_listed_ipv4 "$HOST")" = "$IP" ] ||
    e2e_fail "'tailscale ip -4' prints $IP but 'nodes list' shows $(e2e_listed_ipv4 "$HOST")"

e2e_stage "registering the same auth id again is refused"
if e2e_hs auth register --auth-id "$AUTH_ID" --user e2e >/dev/null; then
    e2e_fail "a second 'auth register' of the used auth id $AUTH_ID succeeded"
fi

e2e_stage "tailscale logout"
e2e_ts logina logout >"$E2E_WORK/logout.log" 2>&1 ||
    e2e_fail "'tailscale logout' failed with status $?: $(tail -n 2 "$E2E_WORK/logout.log" | tr '\n' ' ')"
e2e_wait "$E2E_TIMEOUT" "" backend_state_is NeedsLogin ||
    e2e_fail "after logout the daemon is in '$(backend_state)', not NeedsLogin"
e2e_wait "$E2E_TIMEOUT" "" node_expired ||
    e2e_fail "after logout 'nodes list' does not show $HOST expired: $(head -c 400 "$E2E_WORK/nodes.json")"

e2e_stage "re-login with a pre-auth key revives the node"
NODE_ID=$(python3 "$E2E_DIR/hsjson.py" nodes "$E2E_WORK/nodes.json" | awk -F'\t' -v host="$HOST" '$2 == host {print $1}')
e2e_ts logina up --login-server="$E2E_SERVER_URL" --authkey="$E2E_AUTHKEY" --hostname="$HOST" \
    --accept-dns=false --timeout="${E2E_TIMEOUT}s" >"$E2E_WORK/relogin.log" 2>&1 ||
    e2e_fail "'tailscale up --authkey' after logout failed with status $?: $(tail -n 2 "$E2E_WORK/relogin.log" | tr '\n' ' ')"
e2e_wait "$E2E_TIMEOUT" "" backend_state_is Running ||
    e2e_fail "after the re-login the daemon is in '$(backend_state)', not Running"
e2e_expect_nodes "$HOST"
[ "$(e2e_listed_ipv4 "$HOST")" = "$IP" ] ||
    e2e_fail "the re-login changed the address from $IP to $(e2e_listed_ipv4 "$HOST")"
node_expired && e2e_fail "after the re-login 'nodes list' still shows $HOST expired"

e2e_stage "headscale nodes expire reaches the daemon"
e2e_hs_to "$E2E_WORK/expire.out" nodes expire --identifier "$NODE_ID"
e2e_wait "$E2E_TIMEOUT" "" backend_state_is NeedsLogin ||
    e2e_fail "after 'nodes expire' the daemon is in '$(backend_state)', not NeedsLogin"

e2e_pass "$HOST=$IP registered with auth id $AUTH_ID, logged out, revived, expired"
