# shellcheck shell=bash
# Tailscale client helpers for the end-to-end tests, sourced by lib.sh. Each node gets its own
# dir $E2E_WORK/nodes/NAME with HOME, state, logs dir and `tailscale.log` (the client's own log).
#
# Clients used (see fetch-clients.sh): caddy with tsnet 1.90.9, the baseshift tsnet forwarder
# 1.86.0, and the stock tailscaled/tailscale 1.96.4.

# Sets E2E_ENV to a clean environment for a client whose dir is DIR.
e2e_client_env() {
    local dir=$1
    mkdir -p "$dir/home/.config" "$dir/home/.local/share" "$dir/home/.cache" "$dir/tslogs" "$dir/no-ca-dir"
    # shellcheck disable=SC2054 # the commas are inside NO_PROXY values
    E2E_ENV=(
        PATH=/usr/local/bin:/usr/bin:/bin
        HOME="$dir/home"
        XDG_CONFIG_HOME="$dir/home/.config"
        XDG_DATA_HOME="$dir/home/.local/share"
        XDG_CACHE_HOME="$dir/home/.cache"
        # Without it tsnet and tailscaled create /var/lib/tailscale for their log state.
        TS_LOGS_DIR="$dir/tslogs"
        TS_NO_LOGS_NO_SUPPORT=true
        TS_DISABLE_PORTMAPPER=1
        TS_DISABLE_UPNP=1
        # An empty control URL would mean Tailscale's own servers: crash instead.
        TS_PANIC_IF_HIT_MAIN_CONTROL=1
        # The control client pauses while no interface counts as up, and lo never counts.
        TS_ASSUME_NETWORK_UP_FOR_TEST=1
        # Proxied HTTP fails at a closed local port; loopback is never proxied.
        HTTP_PROXY=http://127.0.0.1:9
        HTTPS_PROXY=http://127.0.0.1:9
        http_proxy=http://127.0.0.1:9
        https_proxy=http://127.0.0.1:9
        NO_PROXY=127.0.0.1,localhost,::1
        no_proxy=127.0.0.1,localhost,::1
        # Go trusts exactly our self-signed certificate, for the control URL and for DERP.
        SSL_CERT_FILE="$E2E_CERT"
        SSL_CERT_DIR="$dir/no-ca-dir"
    )
    if [ "${E2E_RELAY_ONLY:-0}" = 1 ]; then
        # Both knobs force peer traffic through DERP; versions differ in which one they read.
        E2E_ENV+=(TS_DEBUG_ALWAYS_USE_DERP=1 TS_DEBUG_NEVER_DIRECT_UDP=1)
    fi
    if [ "${E2E_VERBOSE:-0}" = 1 ]; then
        E2E_ENV+=(TS_DEBUG_MAP=1)
    fi
}

e2e_node_dir() { echo "$E2E_WORK/nodes/$1"; }

# Starts a caddy tsnet node: e2e_caddy_node NAME HOSTNAME UDP_PORT AUTHKEY [LOCAL_PORT UPSTREAM]
# Without LOCAL_PORT the node returns "hello" on its tailnet port 80. With LOCAL_PORT it returns
# its hostname there and also reverse-proxies http://127.0.0.1:LOCAL_PORT to UPSTREAM through its
# tailnet transport. The auth key reaches caddy only through the environment.
e2e_caddy_node() {
    local name=$1 hostname=$2 udp_port=$3 authkey=$4 local_port=${5:-} upstream=${6:-}
    local dir
    dir=$(e2e_node_dir "$name")
    mkdir -p "$dir/state"
    E2E_NODES+=("$name")
    local body=hello
    [ -n "$local_port" ] && body=$hostname
    cat >"$dir/Caddyfile" <<EOF
{
	admin off
	auto_https off
	persist_config off
	grace_period 2s
	log tailscale {
		level DEBUG
		include tailscale
		output file $dir/tailscale.log
	}
	tailscale {
		control_url $E2E_SERVER_URL
		auth_key {env.E2E_NODE_AUTHKEY}
		ephemeral false
		$name {
			hostname $hostname
			state_dir $dir/state
			port $udp_port
		}
	}
}

http://:80 {
	bind tailscale/$name
	respond "$body" 200
}
EOF
    if [ -n "$local_port" ]; then
        cat >>"$dir/Caddyfile" <<EOF

http://127.0.0.1:$local_port {
	bind 127.0.0.1
	reverse_proxy $upstream {
		transport tailscale $name
	}
}
EOF
    fi
    e2e_client_env "$dir"
    e2e_spawn "caddy node $name" "$dir/caddy.log" -- env -i "${E2E_ENV[@]}" E2E_NODE_AUTHKEY="$authkey" \
        "$(e2e_client caddy)" run --config "$dir/Caddyfile" --adapter caddyfile
    eval "E2E_PID_$name=$E2E_LAST_PID"
}

# Starts the baseshift forwarder as a tsnet node that forwards 127.0.0.1:LOCAL_PORT to
# REMOTE_HOST:80 over the tailnet: e2e_forwarder_node NAME HOSTNAME AUTHKEY LOCAL_PORT REMOTE_HOST
# It reads one JSON request on stdin and keeps running after stdin closes.
e2e_forwarder_node() {
    local name=$1 hostname=$2 authkey=$3 local_port=$4 remote_host=$5
    local dir
    dir=$(e2e_node_dir "$name")
    mkdir -p "$dir"
    E2E_NODES+=("$name")
    (
        umask 077
        python3 -c '
import json, sys
_, key, url, host, remote, port = sys.argv
print(json.dumps({"action": "start", "auth_key": key, "control_url": url, "hostname": host,
                  "ephemeral": False, "dub_name": "e2e", "dub_uuid": "e2e", "clone_uuid": "e2e",
                  "remote_host": remote, "remote_port": 80, "local_port": int(port)}))
' "$authkey" "$E2E_SERVER_URL" "$hostname" "$remote_host" "$local_port" >"$dir/request.json"
    )
    e2e_client_env "$dir"
    e2e_spawn "forwarder node $name" "$dir/tailscale.log" "$dir/request.json" -- env -i "${E2E_ENV[@]}" \
        "$(e2e_client ts-forwarder)"
    eval "E2E_PID_$name=$E2E_LAST_PID"
}

# Starts a stock tailscaled in userspace-networking mode with its own socket, state and UDP port:
# e2e_tailscaled_node NAME UDP_PORT. Waits for its LocalAPI socket.
e2e_tailscaled_node() {
    local name=$1 udp_port=$2
    local dir
    dir=$(e2e_node_dir "$name")
    mkdir -p "$dir/state"
    E2E_NODES+=("$name")
    e2e_client_env "$dir"
    e2e_spawn "tailscaled node $name" "$dir/tailscale.log" -- env -i "${E2E_ENV[@]}" \
        "$(e2e_client tailscaled)" --tun=userspace-networking --socket="$dir/tailscaled.sock" \
        --state="$dir/state/tailscaled.state" --statedir="$dir/state" --port="$udp_port"
    eval "E2E_PID_$name=$E2E_LAST_PID"
    e2e_wait 20 "$E2E_LAST_PID" test -S "$dir/tailscaled.sock" ||
        e2e_fail "tailscaled $name did not create its socket $dir/tailscaled.sock within 20 s"
}

# Runs the stock CLI against node NAME's tailscaled: e2e_ts NAME ARGS...
e2e_ts() {
    local name=$1 dir
    shift
    dir=$(e2e_node_dir "$name")
    e2e_client_env "$dir"
    env -i "${E2E_ENV[@]}" timeout "$((E2E_TIMEOUT + 10))" \
        "$(e2e_client tailscale)" --socket="$dir/tailscaled.sock" "$@"
}

e2e_node_pid() { eval "echo \${E2E_PID_$1:-}"; }

e2e_node_log() { echo "$(e2e_node_dir "$1")/tailscale.log"; }

# NOTE: the log patterns below ("registered IP", "peerapi: serving on", "(with L/N peers)",
# "now using") come from reading the tsnet 1.86/1.90 sources and have not yet matched a real netmap.

# The node's own tailnet IPv4 from its log: netstack's "registered IP" line, or the peerapi
# listener line. 100.100.100.100 is the Tailscale DNS service address, not the node's.
e2e_node_ipv4() {
    grep -aoE 'registered IP [0-9.]+/32|peerapi: serving on http://[0-9.]+:' "$(e2e_node_log "$1")" 2>/dev/null |
        grep -oE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' | grep -v '^100\.100\.100\.100$' | head -n 1
}

e2e_node_ipv6() {
    grep -aoE 'registered IP [0-9a-fA-F:]+/128' "$(e2e_node_log "$1")" 2>/dev/null |
        awk '{print $3}' | cut -d/ -f1 | grep -vi '^fd7a:115c:a1e0::53$' | head -n 1
}

# Largest netmap peer count in the wgengine Reconfig lines, which read "(with L/N peers)" (L of
# N peers configured lazily) or "(with N peers)" depending on the Tailscale version.
e2e_node_peer_count() {
    grep -aoiE 'WireGuard config \(with ([0-9]+/)?[0-9]+ peers\)' "$(e2e_node_log "$1")" 2>/dev/null |
        sed -E 's#.*[ /]([0-9]+) peers\)#\1#' | sort -n | tail -n 1
}

e2e_node_has_ipv4() { [ -n "$(e2e_node_ipv4 "$1")" ]; }

e2e_node_has_peer() {
    local count
    count=$(e2e_node_peer_count "$1")
    [ -n "$count" ] && [ "$count" -ge 1 ]
}

e2e_node_last_state() {
    grep -aoE 'Switching ipn state [A-Za-z]+ -> [A-Za-z]+' "$(e2e_node_log "$1")" 2>/dev/null |
        tail -n 1 | sed 's/.* -> //'
}

# Prints the direct UDP endpoints a node switched to ("now using ADDR"), if any.
e2e_node_direct_paths() {
    grep -aoE 'now using [^ ]+' "$(e2e_node_log "$1")" 2>/dev/null | awk '{print $3}' | sort -u | tr '\n' ' '
}

# Waits for node NAME to get its tailnet IPv4 and sets E2E_IPV4 to it.
e2e_wait_node_ipv4() {
    local name=$1
    e2e_wait "$E2E_TIMEOUT" "$(e2e_node_pid "$name")" e2e_node_has_ipv4 "$name"
    case $? in
        0) E2E_IPV4=$(e2e_node_ipv4 "$name") ;;
        2) e2e_fail "node $name exited before it got a tailnet address" ;;
        *) e2e_fail "node $name got no tailnet IPv4 within ${E2E_TIMEOUT}s (register or first map response missing)" ;;
    esac
    e2e_log "node $name has $E2E_IPV4 $(e2e_node_ipv6 "$name")"
}

# Prints a node's telling log lines: control, state, netmap and path lines.
e2e_node_diagnose() {
    local name=$1 dir log
    dir=$(e2e_node_dir "$name")
    log=$dir/tailscale.log
    if [ -f "$dir/caddy.log" ]; then
        echo "---- node $name: caddy.log (last 5) ----"
        tail -n 5 "$dir/caddy.log" | cut -c1-300
    fi
    echo "---- node $name: control and state lines (last 15) ----"
    grep -aE 'control|register|Register|TryLogin|auth|ipn state|netmap|map response|mapRoutine|health|derp|DERP|now using|handshake|packet filter|error|Error' \
        "$log" 2>/dev/null | tail -n 15 |
        sed -E -e 's/^\{"level":"[a-z]+","ts":[0-9.e+]+,"logger":"tailscale","msg":"//' -e 's/"\}$//' | cut -c1-260
    echo "---- node $name: state $(e2e_node_last_state "$name"), peers $(e2e_node_peer_count "$name"), direct paths: $(e2e_node_direct_paths "$name") ----"
}
