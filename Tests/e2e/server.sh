# shellcheck shell=bash
# Server helpers for the end-to-end tests, sourced by lib.sh: certificate, config, start and
# stop of `headscale serve`, and the CLI calls the tests make. Files live in $E2E_WORK/server.
# shellcheck disable=SC2034 # E2E_* globals set here are read by the test scripts

# Writes a self-signed certificate for IP 127.0.0.1 (also the trust anchor the clients get).
e2e_make_certificate() {
    local dir=$E2E_WORK/server key_args
    case "${E2E_CERT_KEY:-ec}" in
        ec) key_args=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1) ;;
        rsa) key_args=(-newkey rsa:2048) ;;
        *) e2e_fail "E2E_CERT_KEY='$E2E_CERT_KEY' is invalid; use ec or rsa" ;;
    esac
    openssl req -x509 "${key_args[@]}" -nodes -days 2 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" >"$dir/openssl.log" 2>&1 ||
        e2e_fail "openssl could not make the certificate: $(tail -n 2 "$dir/openssl.log")"
    chmod 0600 "$dir/key.pem"
    E2E_CERT=$dir/cert.pem
}

# Writes the server config: HTTPS on 127.0.0.1 with the embedded DERP relay on the same
# listener and STUN on its own UDP port, SQLite state, and no policy (every node reaches every node).
e2e_write_config() {
    local dir=$E2E_WORK/server
    E2E_CONFIG=$dir/config.yaml
    E2E_SOCKET=$dir/headscale.sock
    cat >"$E2E_CONFIG" <<EOF
server_url: $E2E_SERVER_URL
listen_addr: 127.0.0.1:$E2E_HTTPS_PORT
metrics_listen_addr: 127.0.0.1:$E2E_METRICS_PORT
grpc_listen_addr: 127.0.0.1:$E2E_GRPC_PORT
grpc_allow_insecure: false
disable_check_updates: true
tls_cert_path: $dir/cert.pem
tls_key_path: $dir/key.pem
noise:
  private_key_path: $dir/noise_private.key
prefixes:
  v4: 100.64.0.0/10
  v6: fd7a:115c:a1e0::/48
  allocation: sequential
derp:
  server:
    enabled: true
    region_id: 999
    region_code: e2e
    region_name: End-to-end test relay
    verify_clients: true
    stun_listen_addr: 127.0.0.1:$E2E_STUN_PORT
    private_key_path: $dir/derp_server_private.key
    automatically_add_embedded_derp_region: true
    ipv4: 127.0.0.1
  urls: []
  paths: []
  auto_update_enabled: false
database:
  type: sqlite
  sqlite:
    path: $dir/db.sqlite
    write_ahead_log: true
log:
  level: ${E2E_LOG_LEVEL:-debug}
  format: text
policy:
  mode: file
  path: "${E2E_POLICY_PATH:-}"
dns:
  magic_dns: true
  base_domain: e2e.test
  override_local_dns: false
  nameservers:
    global: []
unix_socket: $E2E_SOCKET
unix_socket_permission: "0770"
logtail:
  enabled: false
EOF
    if [ -n "${E2E_SERVER_EXTRA:-}" ]; then
        printf '%s\n' "$E2E_SERVER_EXTRA" >>"$E2E_CONFIG"
    fi
}

e2e_server_healthy() {
    [ -S "$E2E_SOCKET" ] &&
        curl -fsS -m 2 --cacert "$E2E_CERT" -o /dev/null "$E2E_SERVER_URL/health" 2>/dev/null
}

# Starts `headscale serve` and waits until GET /health succeeds over TLS and the unix socket exists.
e2e_server_start() {
    echo "==== headscale serve started $(date '+%F %T') ====" >>"$E2E_WORK/server/server.log"
    e2e_spawn server "$E2E_WORK/server/server.log" -- "$HEADSCALE_BIN" -c "$E2E_CONFIG" serve
    E2E_SERVER_PID=$E2E_LAST_PID
    e2e_wait "$E2E_TIMEOUT" "$E2E_SERVER_PID" e2e_server_healthy
    case $? in
        0) e2e_log "server healthy at $E2E_SERVER_URL" ;;
        2)
            wait "$E2E_SERVER_PID"
            e2e_fail "headscale serve exited with status $? before GET $E2E_SERVER_URL/health succeeded"
            ;;
        *) e2e_fail "GET $E2E_SERVER_URL/health (TLS, CA $E2E_CERT) and socket $E2E_SOCKET not ready within ${E2E_TIMEOUT}s" ;;
    esac
}

# Stops the server with SIGTERM; fails if it needed SIGKILL.
e2e_server_stop() {
    e2e_stop "$E2E_SERVER_PID" || e2e_fail "headscale serve did not exit within 10 s of SIGTERM"
    e2e_log "server stopped"
}

# Runs the headscale CLI against the test config. Stdout is the command's; stderr goes to cli.log.
e2e_hs() {
    echo "\$ headscale $*" >>"$E2E_WORK/cli.log"
    timeout 30 "$HEADSCALE_BIN" -c "$E2E_CONFIG" "$@" 2>>"$E2E_WORK/cli.log"
}

# Runs e2e_hs with stdout saved to FILE and fails the test when the command fails:
# e2e_hs_to FILE COMMAND...
e2e_hs_to() {
    local file=$1
    shift
    e2e_hs "$@" >"$file" || e2e_fail "'headscale $*' failed with status $? (stderr in $E2E_WORK/cli.log)"
}

# Creates the user `e2e` and a reusable pre-auth key; sets E2E_USER_ID and E2E_AUTHKEY.
e2e_create_user_and_key() {
    e2e_stage "create user"
    e2e_hs_to "$E2E_WORK/user-create.out" users create e2e
    e2e_hs_to "$E2E_WORK/users.json" users list -o json
    E2E_USER_ID=$(python3 "$E2E_DIR/hsjson.py" user-id e2e "$E2E_WORK/users.json" 2>>"$E2E_WORK/cli.log") ||
        e2e_fail "'headscale users list -o json' has no user 'e2e': $(tail -n 1 "$E2E_WORK/cli.log")"

    e2e_stage "create pre-auth key"
    local key_file=$E2E_WORK/server/authkey.json
    e2e_hs_to "$key_file" preauthkeys create --user "$E2E_USER_ID" --reusable --expiration 1h -o json
    chmod 0600 "$key_file"
    E2E_AUTHKEY=$(python3 "$E2E_DIR/hsjson.py" authkey "$key_file" 2>>"$E2E_WORK/cli.log") ||
        e2e_fail "'headscale preauthkeys create -o json' printed no key: $(tail -n 1 "$E2E_WORK/cli.log")"
    e2e_log "user e2e has id $E2E_USER_ID; reusable pre-auth key created"
}

# Certificate, config, server start, user and key: everything a test needs before its nodes.
e2e_server_setup() {
    # The server refuses to start while its keys sit in a directory others can list.
    mkdir -p -m 700 "$E2E_WORK/server"
    e2e_stage "server certificate"
    e2e_make_certificate
    e2e_write_config
    e2e_stage "server start"
    e2e_server_start
    e2e_create_user_and_key
}

# Saves `nodes list -o json` to FILE.
e2e_nodes_list() {
    e2e_hs nodes list -o json >"$1"
}

e2e_nodes_match() {
    local hosts=$1 file=$E2E_WORK/nodes.json
    e2e_nodes_list "$file" || return 1
    python3 "$E2E_DIR/hsjson.py" check-nodes "$file" "$hosts" >"$E2E_WORK/nodes-check.txt" 2>&1
}

# Prints the IPv4 that the last saved `nodes list` shows for HOSTNAME.
e2e_listed_ipv4() {
    python3 "$E2E_DIR/hsjson.py" nodes "$E2E_WORK/nodes.json" | awk -F'\t' -v host="$1" '$2 == host {print $5}'
}

# Waits until `nodes list` shows exactly HOSTS (comma-separated), each online with one IPv4
# and one IPv6 from the configured prefixes, and prints that list to stderr.
e2e_expect_nodes() {
    local hosts=$1
    if ! e2e_wait "$E2E_TIMEOUT" "" e2e_nodes_match "$hosts"; then
        sed 's/^/    /' "$E2E_WORK/nodes-check.txt" >&8
        e2e_fail "'headscale nodes list' does not show exactly $hosts online with one IPv4 and one IPv6 each: $(grep -m1 problem "$E2E_WORK/nodes-check.txt")"
    fi
    sed 's/^/    /' "$E2E_WORK/nodes-check.txt" >&8
}
