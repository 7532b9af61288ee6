# shellcheck shell=bash
# Server helpers for Tests/bench/run.sh and Tests/bench/smoke.sh, sourced, never run.
# The caller sets HEADSCALE (server binary), PORT, BENCH_DIR and CONFIG, and defines die and log.
# The server speaks plain HTTP on 127.0.0.1:$PORT, keeps its state in the run directory and is
# pinned to core 0 unless SERVER_TASKSET gives another prefix (empty: no pinning). POLICY_MODE
# (default file, with no policy file, so every node may reach every other) sets `policy.mode`; with
# `database` the policy scenario sets its policy through `headscale policy set`.

# Writes the server config for run directory $1.
write_config() {
    local dir=$1
    cat >"$dir/config.yaml" <<YAML
server_url: http://127.0.0.1:$PORT
listen_addr: 127.0.0.1:$PORT
metrics_listen_addr: 127.0.0.1:$((PORT + 1))
grpc_listen_addr: 127.0.0.1:$((PORT + 2))
disable_check_updates: true
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
    region_code: bench
    region_name: Benchmark relay
    stun_listen_addr: 127.0.0.1:$((PORT + 3))
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
  level: warn
  format: text
policy:
  mode: ${POLICY_MODE:-file}
  path: ""
dns:
  magic_dns: true
  base_domain: bench.test
  override_local_dns: false
  nameservers:
    global: []
unix_socket: $dir/headscale.sock
unix_socket_permission: "0770"
logtail:
  enabled: false
YAML
}

# Writes $1/restart.sh: stops the server in $1/server.pid, starts a new one, waits for /health
# and prints the new PID as its last line. The generator runs it for the reconnect storm.
write_restart_script() {
    local dir=$1
    cat >"$dir/restart.sh" <<SCRIPT
#!/usr/bin/env bash
old=\$(cat "$dir/server.pid")
kill -TERM "\$old" 2>/dev/null
for _ in \$(seq 1 200); do kill -0 "\$old" 2>/dev/null || break; sleep 0.05; done
kill -KILL "\$old" 2>/dev/null
ulimit -n "\$(ulimit -Hn)"
${SERVER_TASKSET-taskset -c 0} "$HEADSCALE" -c "$dir/config.yaml" serve >>"$dir/server.log" 2>&1 </dev/null &
echo \$! >"$dir/server.pid"
for _ in \$(seq 1 400); do
    curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null && break
    sleep 0.025
done
cat "$dir/server.pid"
SCRIPT
    chmod +x "$dir/restart.sh"
}

# Writes $1/set-policy.sh, which loads the policy file $1/policy.json into the server of run
# directory $1 with `headscale policy set`. The generator writes the file and runs the script.
write_policy_script() {
    local dir=$1
    cat >"$dir/set-policy.sh" <<SCRIPT
#!/usr/bin/env bash
exec timeout 120 "$HEADSCALE" -c "$dir/config.yaml" policy set -f "$dir/policy.json"
SCRIPT
    chmod +x "$dir/set-policy.sh"
}

start_server() {
    local dir=$1
    ${SERVER_TASKSET-taskset -c 0} "$HEADSCALE" -c "$dir/config.yaml" serve >>"$dir/server.log" 2>&1 </dev/null &
    echo $! >"$dir/server.pid"
    for _ in $(seq 1 200); do
        if [ -S "$dir/headscale.sock" ] && curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    die "server did not answer GET /health within 10 s; see $dir/server.log"
}

stop_server() {
    local dir=$1 pid
    pid=$(cat "$dir/server.pid" 2>/dev/null) || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null
}

hs() { timeout 60 "$HEADSCALE" -c "$CONFIG" "$@"; }

# Creates the user `bench` and a reusable pre-auth key for the server of run directory $1;
# prints the key.
create_user_and_key() {
    local dir=$1 user_id
    hs users create bench >/dev/null || die "headscale users create failed"
    hs users list -o json >"$dir/users.json" || die "headscale users list failed"
    user_id=$(python3 "$BENCH_DIR/../e2e/hsjson.py" user-id bench "$dir/users.json") || die "no user 'bench'"
    hs preauthkeys create --user "$user_id" --reusable --expiration 2h -o json >"$dir/key.json" ||
        die "headscale preauthkeys create failed"
    python3 "$BENCH_DIR/../e2e/hsjson.py" authkey "$dir/key.json" || die "no pre-auth key printed"
}
