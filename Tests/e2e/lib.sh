# shellcheck shell=bash
# Helpers for the end-to-end tests: sourced by the test scripts in this folder, never run.
#
# A test script calls, in this order:
#   e2e_init NAME "$@"      re-executes the script in a new loopback-only network namespace
#                           (as root, with `unshare -n`), makes the work dir and the exit trap
#   e2e_stage TEXT          names the step that runs next (a FAIL line reports it)
#   e2e_server_setup        certificate, config, `headscale serve`, user and reusable key
#   ... node helpers from nodes.sh, checks, e2e_fail MESSAGE on the first failed check ...
#   e2e_pass [DETAIL]       prints PASS and exits 0
# Every process started through e2e_spawn is stopped on exit (TERM, then KILL after 10 s).
# The work dir is removed after a PASS (unless E2E_KEEP=1) and kept after a FAIL.
#
# Knobs (environment):
#   HEADSCALE_BIN     server binary (default: .build/release/headscale, else .build/debug/headscale)
#   E2E_CLIENTS_DIR   where fetch-clients.sh put the clients (default /var/cache/headscale-e2e)
#   E2E_TIMEOUT       seconds each waiting stage may take (default 60)
#   E2E_KEEP=1        keep the work dir after a PASS too
#   E2E_WORK_ROOT     parent of the work dirs (default /tmp)
#   E2E_VERBOSE=1     clients log every map response (TS_DEBUG_MAP=1)
#   E2E_RELAY_ONLY=1  clients never send direct UDP, so all traffic goes through the DERP relay
#   E2E_LOG_LEVEL     server log.level (default debug)
#   E2E_CERT_KEY      ec (P-256, default) or rsa (2048 bits): the server certificate's key type
#   E2E_SERVER_EXTRA  YAML text appended to the server config, for keys this harness does not set

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_REPO=$(cd "$E2E_DIR/../.." && pwd)
E2E_TIMEOUT=${E2E_TIMEOUT:-60}
E2E_CLIENTS_DIR=${E2E_CLIENTS_DIR:-/var/cache/headscale-e2e}

# Fixed ports are safe because every test owns a fresh network namespace.
E2E_HTTPS_PORT=8443
E2E_STUN_PORT=3478
E2E_METRICS_PORT=9090
E2E_GRPC_PORT=50443
E2E_SERVER_URL="https://127.0.0.1:$E2E_HTTPS_PORT"
# The address that makes the clients' network monitor count the network as up: Tailscale
# ignores loopback addresses when it decides whether any interface is usable.
E2E_NETNS_ADDR=10.77.0.1/32

E2E_PIDS=()
E2E_PID_LABELS=()
E2E_STAGE="start"
E2E_RESULT="fail"
E2E_NODES=()

# The script's own stdout and stderr, saved on fds 7 and 8 when lib.sh is sourced: a trap can
# run while a function's output is redirected to a file, and its messages must still reach the console.
exec 7>&1 8>&2

e2e_log() { printf '[e2e %s %s] %s\n' "$(date +%H:%M:%S)" "${E2E_NAME:-?}" "$*" >&8; }

# Prints "FAIL: NAME at stage STAGE: MESSAGE" on stdout, the telling log lines on stderr, and exits 1.
e2e_fail() {
    E2E_RESULT=fail
    e2e_diagnose
    echo "FAIL: $E2E_NAME at stage '$E2E_STAGE': $*" >&7
    exit 1
}

# Prints "PASS: NAME" and exits 0.
e2e_pass() {
    E2E_RESULT=pass
    echo "PASS: $E2E_NAME${1:+ ($1)}" >&7
    exit 0
}

# INT/TERM trap (run.sh's time limit sends TERM): reports the stage, then the EXIT trap cleans up.
e2e_interrupted() {
    echo "FAIL: $E2E_NAME at stage '$E2E_STAGE': interrupted by a signal" >&7
    exit 130
}

e2e_stage() {
    E2E_STAGE=$1
    e2e_log "stage: $1"
}

# Re-executes the calling script inside a new network namespace that has only `lo`, with
# E2E_NAME set, then prepares the namespace, the work dir and the exit trap.
e2e_init() {
    E2E_NAME=$1
    shift
    if [ "${E2E_IN_NETNS:-}" != "$$" ]; then
        [ "$(id -u)" = 0 ] || { echo "FAIL: $E2E_NAME at stage 'setup': must run as root (it uses unshare -n)"; exit 1; }
        command -v unshare >/dev/null || { echo "FAIL: $E2E_NAME at stage 'setup': unshare not found (util-linux)"; exit 1; }
        if ! unshare -n true 2>/dev/null; then
            echo "FAIL: $E2E_NAME at stage 'setup': 'unshare -n' is not permitted here (needs CAP_SYS_ADMIN)"
            exit 1
        fi
        # unshare without --fork execs in place, so the PID stays the same and marks the namespace as ours.
        E2E_IN_NETNS=$$ exec unshare -n -- "$BASH" "$0" "$@"
    fi
    e2e_netns_setup
    e2e_check_tools
    E2E_WORK=$(mktemp -d "${E2E_WORK_ROOT:-/tmp}/headscale-e2e-$E2E_NAME.XXXXXX")
    trap e2e_cleanup EXIT
    trap e2e_interrupted INT TERM
    e2e_find_headscale
    e2e_log "work dir $E2E_WORK, server $HEADSCALE_BIN"
}

e2e_netns_setup() {
    local links
    links=$(ip -o link show | awk -F': ' '{print $2}')
    if [ "$links" != lo ]; then
        echo "FAIL: $E2E_NAME at stage 'setup': the network namespace has links other than lo ($links); refusing to run clients"
        exit 1
    fi
    ip link set lo up || { echo "FAIL: $E2E_NAME at stage 'setup': cannot bring lo up"; exit 1; }
    ip addr add "$E2E_NETNS_ADDR" dev lo || { echo "FAIL: $E2E_NAME at stage 'setup': cannot add $E2E_NETNS_ADDR to lo"; exit 1; }
}

e2e_check_tools() {
    local tool
    for tool in curl openssl python3 ip timeout sha256sum; do
        command -v "$tool" >/dev/null || { echo "FAIL: $E2E_NAME at stage 'setup': '$tool' not found; install it"; exit 1; }
    done
}

e2e_find_headscale() {
    local candidate
    if [ -z "${HEADSCALE_BIN:-}" ]; then
        for candidate in "$E2E_REPO/.build/release/headscale" "$E2E_REPO/.build/debug/headscale"; do
            [ -x "$candidate" ] && { HEADSCALE_BIN=$candidate; break; }
        done
    fi
    if [ -z "${HEADSCALE_BIN:-}" ] || [ ! -x "$HEADSCALE_BIN" ]; then
        e2e_fail "no server binary: HEADSCALE_BIN='${HEADSCALE_BIN:-}' is not executable; run 'swift build -c release' or set HEADSCALE_BIN"
    fi
}

# Prints the path of a client binary that fetch-clients.sh installs.
e2e_client() { echo "$E2E_CLIENTS_DIR/bin/$1"; }

# Fails unless every named client binary is there.
e2e_require_clients() {
    local name
    for name in "$@"; do
        [ -x "$(e2e_client "$name")" ] ||
            e2e_fail "client '$name' missing at $(e2e_client "$name"); run Tests/e2e/fetch-clients.sh"
    done
}

# Starts a background process: e2e_spawn LABEL LOGFILE [<INPUT] -- COMMAND...
# Its output is appended to LOGFILE, its stdin is INPUT (default /dev/null). Sets E2E_LAST_PID.
e2e_spawn() {
    local label=$1 logfile=$2 input=/dev/null
    shift 2
    if [ "$1" != -- ]; then
        input=$1
        shift
    fi
    shift
    "$@" <"$input" >>"$logfile" 2>&1 7>&- 8>&- &
    E2E_LAST_PID=$!
    E2E_PIDS+=("$E2E_LAST_PID")
    E2E_PID_LABELS+=("$label")
    e2e_log "started $label (pid $E2E_LAST_PID, log $logfile)"
}

# Stops one process that e2e_spawn started: TERM, then KILL after 10 s. Returns 1 if KILL was needed.
e2e_stop() {
    local pid=$1 status=0 index
    if kill -TERM "$pid" 2>/dev/null; then
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            e2e_log "pid $pid ignored SIGTERM for 10 s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null
            status=1
        fi
    fi
    wait "$pid" 2>/dev/null
    for index in "${!E2E_PIDS[@]}"; do
        if [ "${E2E_PIDS[$index]}" = "$pid" ]; then
            unset 'E2E_PIDS[index]' 'E2E_PID_LABELS[index]'
        fi
    done
    return "$status"
}

# Exit trap: stops every process still running (all get SIGTERM at once, stragglers SIGKILL
# after 10 s), then removes or keeps the work dir.
e2e_cleanup() {
    local rc=$? pid alive
    trap - EXIT INT TERM
    for pid in "${E2E_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for _ in $(seq 1 100); do
        alive=0
        for pid in "${E2E_PIDS[@]}"; do
            kill -0 "$pid" 2>/dev/null && alive=1
        done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    for pid in "${E2E_PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            e2e_log "pid $pid ignored SIGTERM for 10 s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null
        fi
        wait "$pid" 2>/dev/null
    done
    if [ "$E2E_RESULT" = pass ] && [ "${E2E_KEEP:-0}" != 1 ]; then
        rm -rf "$E2E_WORK"
    elif [ -n "${E2E_WORK:-}" ]; then
        e2e_log "work dir kept: $E2E_WORK"
    fi
    exit "$rc"
}

# Polls COMMAND every half second until it succeeds: e2e_wait SECONDS PID COMMAND...
# Returns 1 on timeout, 2 as soon as PID (if not empty) has exited.
e2e_wait() {
    local seconds=$1 pid=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    while true; do
        "$@" && return 0
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            return 2
        fi
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.5
    done
}

# Prints the log lines most likely to show why a stage failed: server, CLI and every node.
e2e_diagnose() {
    [ -n "${E2E_WORK:-}" ] || return 0
    {
        if [ -f "$E2E_WORK/server/server.log" ]; then
            echo "---- server: warnings and errors (last 15) ----"
            grep -aiE 'error|warn|fatal|panic|invalid|failed|denied|reject' "$E2E_WORK/server/server.log" | tail -n 15 | cut -c1-300
            echo "---- server: last 10 lines ----"
            tail -n 10 "$E2E_WORK/server/server.log" | cut -c1-300
        fi
        if [ -s "$E2E_WORK/cli.log" ]; then
            echo "---- headscale CLI stderr (last 5) ----"
            tail -n 5 "$E2E_WORK/cli.log" | cut -c1-300
        fi
        local node
        for node in "${E2E_NODES[@]}"; do
            e2e_node_diagnose "$node"
        done
    } >&8
}

# shellcheck source=Tests/e2e/server.sh
source "$E2E_DIR/server.sh"
# shellcheck source=Tests/e2e/nodes.sh
source "$E2E_DIR/nodes.sh"
