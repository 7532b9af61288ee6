#!/usr/bin/env bash
# Usage: Tests/e2e/dns-extra-records.sh      (as root)
#
# A stock tailscaled 1.96.4 resolves names from the server's dns.extra_records_path file, and an
# edit of that file reaches it without a restart or a new map stream. Then:
#   `tailscale dns query first.e2e.test` on the node returns 100.64.0.77, the record of the file
#   as the server read it at start;
#   after the file is replaced by an atomic rename, the server logs the reload and the node
#   resolves second.e2e.test to 100.64.0.78, with no new map stream in between;
#   after the file is broken, the server logs the invalid file and the node still resolves
#   second.e2e.test.
# Knobs: those listed in lib.sh. Prints PASS or "FAIL: ... at stage ...".
# shellcheck disable=SC2317 # functions passed to e2e_wait run indirectly
set -u -o pipefail

NAME=dns-extra-records

# shellcheck source=Tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$NAME" "$@"

RECORDS=$E2E_WORK/server/records.json

# Replaces the records file by writing a new file and renaming it over the old one.
write_records() {
    printf '%s\n' "$1" >"$RECORDS.tmp"
    mv "$RECORDS.tmp" "$RECORDS"
}

# True when the node's resolver returns ADDRESS for NAME.
node_resolves() {
    local name=$1 address=$2 file
    file=$(e2e_node_dir node)/query-$name.txt
    e2e_ts node dns query "$name" >"$file" 2>&1
    grep -qF "$address" "$file"
}

map_streams_opened() { grep -ac 'map stream opened' "$E2E_WORK/server/server.log"; }

server_logged() { grep -aqF "$1" "$E2E_WORK/server/server.log"; }

e2e_require_clients tailscaled tailscale
mkdir -p -m 700 "$E2E_WORK/server"
e2e_stage "server certificate"
e2e_make_certificate
e2e_write_config
write_records '[{"name": "first.e2e.test", "type": "A", "value": "100.64.0.77"}]'
sed -i "s#^  base_domain: e2e.test\$#&\n  extra_records_path: $RECORDS#" "$E2E_CONFIG"
grep -q 'extra_records_path:' "$E2E_CONFIG" || e2e_fail "could not add dns.extra_records_path to $E2E_CONFIG"
e2e_stage "server start"
e2e_server_start
e2e_create_user_and_key

e2e_stage "start tailscaled"
e2e_tailscaled_node node 41641
e2e_stage "tailscale up"
e2e_ts node up --login-server="$E2E_SERVER_URL" --authkey="$E2E_AUTHKEY" --hostname=records-node \
    --accept-dns=false --timeout="${E2E_TIMEOUT}s" >"$E2E_WORK/up.log" 2>&1 ||
    e2e_fail "'tailscale up' failed with status $?: $(tail -n 2 "$E2E_WORK/up.log" | tr '\n' ' ')"

e2e_stage "node resolves a record from the file read at start"
e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid node)" node_resolves first.e2e.test 100.64.0.77 ||
    e2e_fail "'tailscale dns query first.e2e.test' never returned 100.64.0.77: $(tr '\n' '|' <"$(e2e_node_dir node)/query-first.e2e.test.txt" | cut -c1-300)"

e2e_stage "renamed file reaches the node"
STREAMS=$(map_streams_opened)
write_records '[{"name": "second.e2e.test", "type": "A", "value": "100.64.0.78"}]'
e2e_wait "$E2E_TIMEOUT" "$E2E_SERVER_PID" server_logged 'extra DNS records reloaded' ||
    e2e_fail "the server never logged 'extra DNS records reloaded' after the file changed"
e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid node)" node_resolves second.e2e.test 100.64.0.78 ||
    e2e_fail "'tailscale dns query second.e2e.test' never returned 100.64.0.78: $(tr '\n' '|' <"$(e2e_node_dir node)/query-second.e2e.test.txt" | cut -c1-300)"
[ "$(map_streams_opened)" = "$STREAMS" ] ||
    e2e_fail "the node opened a new map stream to get the records ($STREAMS before, $(map_streams_opened) after)"

e2e_stage "broken file keeps the last records"
write_records '[{"name": "third.e2e.test", "type": "A", "value": "not-an-address"}]'
e2e_wait "$E2E_TIMEOUT" "$E2E_SERVER_PID" server_logged 'extra DNS records file is invalid' ||
    e2e_fail "the server never logged the invalid records file"
node_resolves second.e2e.test 100.64.0.78 ||
    e2e_fail "after the invalid edit the node no longer resolves second.e2e.test"

e2e_pass "first and second record resolved, the broken edit ignored"
