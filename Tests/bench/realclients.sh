#!/usr/bin/env bash
# Usage: Tests/bench/realclients.sh [N]          (as root; default N: 20)
#
# Cross-checks the load generator with real Tailscale clients at small N, in one sitting, inside a
# fresh loopback-only network namespace:
#   1. Starts the release `headscale` with the config of Tests/bench/lib.sh (plain HTTP on 127.0.0.1)
#      at log level info, pinned to core 0. Connects N real nodes, pinned to core 1, with a reusable
#      pre-auth key in 4 waves: one stock tailscaled 1.96.4, one baseshift forwarder (tsnet 1.86.0)
#      and caddy nodes (tsnet 1.90.9). Server RSS is read after each wave.
#   2. Waits REALCLIENTS_SETTLE_SECONDS, then reads the server's CPU time over an idle window.
#   3. Adds REALCLIENTS_JOINS caddy nodes one at a time. Each join is timed from the server's
#      "map stream opened" log line for the joiner to the first line of each peer's log that names
#      the joiner (clients run with TS_DEBUG_MAP=1, which logs every map response they decode;
#      tailscaled's netmap is read through `tailscale debug watch-ipn`). The server's /metrics
#      counters are read before the join, once every peer has seen it, and at the end of the window.
#   4. Stops the clients and the server, then runs `hs-loadgen` against a fresh server with the same
#      N, waves, idle window and joins, with every client sampled.
#   5. Prints the comparison table (also in WORK/summary.json).
#
# Run it under `flock /tmp/bench.lock` on a shared machine. Knobs (environment):
#   REALCLIENTS_JOINS (5)  REALCLIENTS_IDLE_SECONDS (60)  REALCLIENTS_SETTLE_SECONDS (15)
#   REALCLIENTS_JOIN_WINDOW (5: seconds of counters per join)  REALCLIENTS_PORT (18080)
#   BENCH_SKIP_BUILD=1 (use the release binaries as they are)  E2E_CLIENTS_DIR, E2E_TIMEOUT (Tests/e2e/lib.sh)
# The work dir (/tmp/headscale-e2e-realclients.*) is kept; it contains the test pre-auth key.
# shellcheck disable=SC2317 # functions passed to e2e_wait run indirectly
set -u -o pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_DIR=$REPO/Tests/bench
NODES=${1:-20}
JOINS=${REALCLIENTS_JOINS:-5}
IDLE_SECONDS=${REALCLIENTS_IDLE_SECONDS:-60}
SETTLE_SECONDS=${REALCLIENTS_SETTLE_SECONDS:-15}
JOIN_WINDOW=${REALCLIENTS_JOIN_WINDOW:-5}
PORT=${REALCLIENTS_PORT:-18080}
WAVES=4
HELPER=$BENCH_DIR/realclients.py

# Checks that need no namespace run once, before `e2e_init` re-executes the script in one.
if [ -z "${E2E_IN_NETNS:-}" ]; then
    case $NODES in
        '' | *[!0-9]*) echo "realclients: N '$NODES' is invalid; use an integer from 4 to 200" >&2; exit 2 ;;
    esac
    if [ "$NODES" -lt 4 ] || [ "$NODES" -gt 200 ]; then
        echo "realclients: N $NODES is invalid; use an integer from 4 to 200" >&2
        exit 2
    fi
    [ "$(id -u)" = 0 ] || { echo "realclients: must run as root (it uses unshare -n for a loopback-only namespace)" >&2; exit 1; }
    for client in caddy tailscaled tailscale ts-forwarder; do
        [ -x "${E2E_CLIENTS_DIR:-/var/cache/headscale-e2e}/bin/$client" ] || {
            echo "realclients: client '$client' missing in ${E2E_CLIENTS_DIR:-/var/cache/headscale-e2e}/bin; run Tests/e2e/fetch-clients.sh (as root) first" >&2
            exit 1
        }
    done
    for tool in taskset curl python3; do
        command -v "$tool" >/dev/null || { echo "realclients: '$tool' not found; install it" >&2; exit 1; }
    done
    if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
        echo "realclients: building release binaries (headscale, hs-loadgen)" >&2
        (cd "$REPO" && swift build -c release --product headscale && swift build -c release --product hs-loadgen) \
            >/tmp/realclients-build.log 2>&1 || { echo "realclients: release build failed; see /tmp/realclients-build.log" >&2; exit 1; }
    fi
fi

BIN=$(cd "$REPO" && swift build -c release --show-bin-path)
export HEADSCALE_BIN=$BIN/headscale
LOADGEN=$BIN/hs-loadgen
export E2E_KEEP=1 E2E_VERBOSE=1
# shellcheck source=Tests/e2e/lib.sh
source "$REPO/Tests/e2e/lib.sh"
e2e_init realclients "$@"
[ -x "$LOADGEN" ] || e2e_fail "no generator at $LOADGEN; run 'swift build -c release --product hs-loadgen'"

die() { e2e_fail "$*"; }
log() { e2e_log "$*"; }
HEADSCALE=$HEADSCALE_BIN
# shellcheck source=Tests/bench/lib.sh
source "$BENCH_DIR/lib.sh"
# shellcheck source=Tests/bench/realclients-lib.sh
source "$BENCH_DIR/realclients-lib.sh"
trap rc_cleanup EXIT

# Everything this shell starts runs on core 1 unless it pins itself elsewhere (the server: core 0).
taskset -p -c 1 $$ >/dev/null || e2e_fail "taskset could not pin the script to core 1"
ulimit -n "$(ulimit -Hn)"
E2E_CERT=/dev/null
E2E_SERVER_URL=http://127.0.0.1:$PORT
METRICS_URL=http://127.0.0.1:$((PORT + 1))/metrics
REAL=$E2E_WORK/real
mkdir -p "$REAL/joins"

e2e_stage "real clients: server start"
rc_server_start "$E2E_WORK/server"
printf '%s\n' "$NODES" >"$REAL/nodes"

e2e_stage "real clients: ramp of $NODES nodes in $WAVES waves"
rc_ramp
e2e_stage "real clients: $NODES nodes visible to the stock client"
rc_check_stock_peers "$((NODES - 1))"

e2e_stage "real clients: settle ${SETTLE_SECONDS}s, idle ${IDLE_SECONDS}s"
sleep "$SETTLE_SECONDS"
rc_idle

for join in $(seq 1 "$JOINS"); do
    e2e_stage "real clients: join $join of $JOINS"
    rc_join "$join"
done

e2e_stage "real clients: stop"
rc_stop_clients
stop_server "$E2E_WORK/server"

e2e_stage "generator: N=$NODES"
rc_generator "$E2E_WORK/gen"

e2e_stage "summary"
python3 "$HELPER" summary "$E2E_WORK" "$JOIN_WINDOW" | tee "$E2E_WORK/summary.md" >&7 || e2e_fail "the summary could not be computed"
e2e_pass "results in $E2E_WORK"
