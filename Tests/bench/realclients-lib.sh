# shellcheck shell=bash
# Steps of Tests/bench/realclients.sh, sourced after Tests/e2e/lib.sh and Tests/bench/lib.sh.
# The caller sets NODES, JOINS, IDLE_SECONDS, JOIN_WINDOW, WAVES, PORT, HELPER, METRICS_URL, REAL
# and LOADGEN. Measurements go to files under $REAL that `realclients.py summary` reads:
#   nodes, rss.tsv ("open streams<TAB>server RSS bytes" per wave), metrics-ramp-{before,after}.json,
#   idle.tsv ("seconds<TAB>server CPU seconds"), metrics-idle-{before,after}.json, and per join
#   joins/J/{peers,arrivals.tsv,metrics-start.json,metrics-seen.json,metrics-end.json}.
# shellcheck disable=SC2034 # E2E_* globals are read by the sourced e2e helpers

# Observer logs, in start order: the file whose timed lines show the map responses a node received
# (caddy: caddy.log, where TS_DEBUG_MAP=1 writes them with "ts" in microseconds, and tailscaled: its
# stamped `watch-ipn` output). The forwarder is no observer, because its log times are whole seconds.
RC_OBSERVER_LOGS=()
# Nodes started so far, observers or not: the peers a joiner's delta goes to.
RC_NODE_COUNT=0
RC_SERVER_PID=

# The e2e client environment plus DERP over plain HTTP, because the bench server has no TLS and its
# embedded relay shares the plain-HTTP listener.
eval "$(declare -f e2e_client_env | sed '1s/^e2e_client_env /rc_e2e_client_env_base /')"
e2e_client_env() {
    rc_e2e_client_env_base "$@"
    E2E_ENV+=(TS_DEBUG_USE_DERP_HTTP=1)
}

rc_metrics() { python3 "$HELPER" metrics "$METRICS_URL" "$1" || e2e_fail "GET $METRICS_URL failed"; }

rc_server_rss() { python3 "$HELPER" rss "$RC_SERVER_PID"; }

rc_open_streams() {
    curl -fsS -m 5 "$METRICS_URL" 2>/dev/null | awk '$1 == "headscale_map_streams" {print $2}'
}

rc_streams_at_least() {
    local open
    open=$(rc_open_streams)
    [ -n "$open" ] && [ "$open" -ge "$1" ]
}

# Starts the server of run directory $1 with the bench config at log level info, which logs the
# "map stream opened" lines. Creates the user and key, and sets CONFIG, RC_SERVER_PID and RC_AUTHKEY.
rc_server_start() {
    local dir=$1
    mkdir -m 700 "$dir"
    CONFIG=$dir/config.yaml
    write_config "$dir"
    sed -i 's/^  level: warn$/  level: info/' "$CONFIG"
    grep -q '^  level: info$' "$CONFIG" || e2e_fail "could not set log.level info in $CONFIG"
    start_server "$dir"
    RC_SERVER_PID=$(cat "$dir/server.pid")
    RC_AUTHKEY=$(create_user_and_key "$dir") || e2e_fail "creating the user and pre-auth key failed (see $dir/server.log)"
}

# Starts the stock tailscaled as node NAME with HOSTNAME, logs it in in the background and records
# its netmap notifications with receive times.
rc_start_tailscaled() {
    local name=$1 host=$2 udp_port=$3 dir
    dir=$(e2e_node_dir "$name")
    e2e_tailscaled_node "$name" "$udp_port"
    e2e_client_env "$dir"
    e2e_spawn "watch-ipn $name" "$dir/watch-ipn.log" -- python3 "$HELPER" stamp "$dir/netmap.stamped" -- \
        env -i "${E2E_ENV[@]}" "$(e2e_client tailscale)" --socket="$dir/tailscaled.sock" \
        debug watch-ipn --rate-limit=false --netmap=true
    e2e_spawn "tailscale up $name" "$dir/up.log" -- env -i "${E2E_ENV[@]}" timeout 120 \
        "$(e2e_client tailscale)" --socket="$dir/tailscaled.sock" up --login-server="$E2E_SERVER_URL" \
        --authkey="$RC_AUTHKEY" --hostname="$host"
    RC_OBSERVER_LOGS+=("$dir/netmap.stamped")
}

# Starts ramp node number $1 (1-based): the stock tailscaled first, the forwarder second, caddy after.
rc_start_ramp_node() {
    local index=$1 udp_port=$((41640 + $1)) name
    name=$(printf 'rc%02d' "$index")
    case $index in
        1) rc_start_tailscaled "$name" rc-ts "$udp_port" ;;
        2)
            # The forwarder only dials its remote host when a local connection arrives, which never happens here.
            e2e_forwarder_node "$name" rc-fwd "$RC_AUTHKEY" 19000 rc-ts
            ;;
        *)
            e2e_caddy_node "$name" "$(printf 'rc-%02d' "$index")" "$udp_port" "$RC_AUTHKEY"
            RC_OBSERVER_LOGS+=("$(e2e_node_dir "$name")/caddy.log")
            ;;
    esac
    RC_NODE_COUNT=$((RC_NODE_COUNT + 1))
}

# Connects $NODES nodes in $WAVES waves and reads the server's RSS before and after each wave, once
# the wave's map streams are open.
rc_ramp() {
    local wave first=1 last started=0 open attempt
    rc_metrics "$REAL/metrics-ramp-before.json"
    printf '0\t%s\n' "$(rc_server_rss)" >"$REAL/rss.tsv"
    for wave in $(seq 1 "$WAVES"); do
        last=$((wave == WAVES ? NODES : wave * NODES / WAVES))
        for index in $(seq "$first" "$last"); do
            rc_start_ramp_node "$index"
        done
        started=$last
        e2e_wait $((E2E_TIMEOUT * 2)) "" rc_streams_at_least "$started" ||
            e2e_fail "only $(rc_open_streams) of $started map streams open after $((E2E_TIMEOUT * 2)) s"
        sleep 1
        open=""
        # A scrape can time out on a loaded machine; an empty count would corrupt rss.tsv.
        for attempt in 1 2 3 4 5; do
            open=$(rc_open_streams)
            [ -n "$open" ] && break
            e2e_log "GET $METRICS_URL failed (attempt $attempt); retrying"
            sleep 1
        done
        [ -n "$open" ] || e2e_fail "GET $METRICS_URL returned no headscale_map_streams after 5 attempts"
        printf '%s\t%s\n' "$open" "$(rc_server_rss)" >>"$REAL/rss.tsv"
        e2e_log "wave $wave: $started nodes, $open streams, server RSS $(rc_server_rss) B"
        first=$((last + 1))
    done
    rc_metrics "$REAL/metrics-ramp-after.json"
}

rc_stock_sees_peers() {
    e2e_ts rc01 status --json >"$REAL/status.json" 2>/dev/null || return 1
    python3 -c '
import json, sys
peers = json.load(open(sys.argv[1])).get("Peer") or {}
sys.exit(0 if len(peers) >= int(sys.argv[2]) else 1)
' "$REAL/status.json" "$1"
}

# Waits until `tailscale status --json` on the stock client lists at least $1 peers.
rc_check_stock_peers() {
    e2e_wait "$E2E_TIMEOUT" "" rc_stock_sees_peers "$1" ||
        e2e_fail "tailscale status --json on rc01 lists fewer than $1 peers (see $REAL/status.json)"
    e2e_ts rc01 debug netmap >"$REAL/netmap.json" 2>/dev/null || e2e_log "tailscale debug netmap failed"
    e2e_ts rc01 debug metrics >"$REAL/client-metrics.txt" 2>/dev/null || e2e_log "tailscale debug metrics failed"
}

# Reads the server's CPU time over an idle window of $IDLE_SECONDS.
rc_idle() {
    local before after
    rc_metrics "$REAL/metrics-idle-before.json"
    before=$(python3 "$HELPER" cpu "$RC_SERVER_PID")
    sleep "$IDLE_SECONDS"
    after=$(python3 "$HELPER" cpu "$RC_SERVER_PID")
    rc_metrics "$REAL/metrics-idle-after.json"
    printf '%s\t%s\n' "$IDLE_SECONDS" "$(python3 -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$before" "$after")" \
        >"$REAL/idle.tsv"
}

rc_stream_open_time() {
    RC_T0=$(python3 "$HELPER" log-time "$E2E_WORK/server/server.log" "map stream opened.*node\\.name=$1( |\$)")
}

rc_all_peers_saw() {
    python3 "$HELPER" arrivals "$RC_T0" "$1" "${RC_OBSERVER_LOGS[@]}" >"$2"
}

# Adds caddy node rc-join-$1, times its arrival at every node started before it and reads the
# server's counters before, once every peer saw it, and $JOIN_WINDOW s after its stream opened.
rc_join() {
    local join=$1 dir=$REAL/joins/$1 host=rc-join-$1 name=rcjoin$1 end
    mkdir -p "$dir"
    printf '%s\n' "$RC_NODE_COUNT" >"$dir/peers"
    rc_metrics "$dir/metrics-start.json"
    e2e_caddy_node "$name" "$host" $((41800 + join)) "$RC_AUTHKEY"
    e2e_wait "$E2E_TIMEOUT" "" rc_stream_open_time "$host" ||
        e2e_fail "the server log has no 'map stream opened' line for $host within ${E2E_TIMEOUT}s"
    local deadline=$((SECONDS + E2E_TIMEOUT))
    until rc_all_peers_saw "$host" "$dir/arrivals.tsv"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            e2e_log "join $join: some peers never logged $host: $(grep -c $'\t-$' "$dir/arrivals.tsv") missing"
            break
        fi
        sleep 0.1
    done
    rc_metrics "$dir/metrics-seen.json"
    end=$(python3 -c 'import sys, time; print(max(0.0, float(sys.argv[1]) + float(sys.argv[2]) - time.time()))' \
        "$RC_T0" "$JOIN_WINDOW")
    sleep "$end"
    rc_metrics "$dir/metrics-end.json"
    printf '%s\n' "$RC_T0" >"$dir/t0"
    RC_OBSERVER_LOGS+=("$(e2e_node_dir "$name")/caddy.log")
    RC_NODE_COUNT=$((RC_NODE_COUNT + 1))
    e2e_log "join $join: slowest peer $(sort -t$'\t' -k2 -g "$dir/arrivals.tsv" | tail -n 1 | cut -f2) s"
}

# Stops every client process: SIGTERM to all at once, SIGKILL after 10 s.
rc_stop_clients() {
    local pid
    for pid in "${E2E_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${E2E_PIDS[@]}"; do
        e2e_stop "$pid" || e2e_log "pid $pid needed SIGKILL"
    done
}

# Runs the generator against a fresh server in run directory $1 with the same N, waves, idle
# window and joins, every client sampled, and reads the server's counters before and after.
rc_generator() {
    local dir=$1 status
    rc_server_start "$dir"
    rc_metrics "$dir/metrics-before.json"
    echo "taskset -c 1 $LOADGEN --server 127.0.0.1:$PORT --authkey <key> --nodes $NODES --waves $WAVES" \
        "--sample 1 --idle-seconds $IDLE_SECONDS --joins $JOINS --endpoint-changes 0 --burst 0" \
        "--server-pid <server-pid> --output $dir/results.json" >"$dir/command.txt"
    taskset -c 1 "$LOADGEN" --server "127.0.0.1:$PORT" --authkey "$RC_AUTHKEY" --nodes "$NODES" --waves "$WAVES" \
        --sample 1 --idle-seconds "$IDLE_SECONDS" --joins "$JOINS" --endpoint-changes 0 --burst 0 \
        --server-pid "$RC_SERVER_PID" --output "$dir/results.json" >"$dir/loadgen.log" 2>&1
    status=$?
    rc_metrics "$dir/metrics-after.json"
    stop_server "$dir"
    [ "$status" -le 1 ] || e2e_fail "hs-loadgen failed with status $status; see $dir/loadgen.log"
    tail -n 1 "$dir/loadgen.log" >&8
}

# Exit trap: stops both servers (stop_server ignores one that is not running), then the e2e cleanup
# stops every client and keeps the work dir.
rc_cleanup() {
    local status=$?
    stop_server "$E2E_WORK/server"
    stop_server "$E2E_WORK/gen"
    (exit "$status")
    e2e_cleanup
}
