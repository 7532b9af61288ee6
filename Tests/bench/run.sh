#!/usr/bin/env bash
# Usage: Tests/bench/run.sh [N ...]        (default N: 200 500 1000 2000)
#
# Builds `headscale` and `hs-loadgen` in release mode, then for each N: starts a fresh server
# (plain HTTP on 127.0.0.1, temp config and SQLite file, pinned to core 0), creates a user and a
# reusable pre-auth key with the CLI, runs every load scenario with the generator pinned to
# core 1, checks `headscale nodes list -o json` for duplicate addresses, and stops the server.
# Writes the results as JSON next to the logs and renders docs/benchmarks.md from them.
#
# Everything runs on loopback only. Knobs (environment):
#   BENCH_IDLE_SECONDS (15)  BENCH_JOINS (20)  BENCH_ENDPOINT_CHANGES (20)  BENCH_ONLINE_CHANGES (10)
#   BENCH_SAMPLE (0.05)
#   BENCH_BURST (min(N/2, 1000))  BENCH_WAVES (4)  BENCH_STORM (1; 0 skips the reconnect storm)
#   BENCH_PHASE_TIMEOUT (120; seconds a ramp wave, the burst or the idle wait may take)
#   BENCH_PORT (18080)  BENCH_WORK (a new dir under /tmp; kept)  BENCH_SKIP_BUILD=1
#   BENCH_POLICY_JOINS (20; 0 skips the per-block policy scenario, which runs last and sets its
#   policy with `headscale policy set`, so the server runs with `policy.mode: database`)
#   BENCH_DOC (docs/benchmarks.md; "-" writes no doc)  BENCH_PERF=1 records `perf` for the server
set -u -o pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_DIR=$REPO/Tests/bench
cd "$REPO" || exit 1
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(200 500 1000 2000)
PORT=${BENCH_PORT:-18080}
WORK=${BENCH_WORK:-$(mktemp -d /tmp/hs-bench.XXXXXX)}
DOC=${BENCH_DOC:-$REPO/docs/benchmarks.md}

die() {
    echo "bench: $*" >&2
    exit 1
}

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

mkdir -p "$WORK" || die "cannot create the work dir $WORK"

# The generator and the server each hold one descriptor per node, plus the burst.
ulimit -n "$(ulimit -Hn)" || die "cannot raise the open-file limit"
[ "$(ulimit -n)" -ge 8192 ] || die "open-file limit $(ulimit -n) is below 8192; raise the hard limit (ulimit -Hn)"
for tool in curl python3 taskset; do
    command -v "$tool" >/dev/null || die "'$tool' not found; install it"
done

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    log "building release binaries"
    swift build -c release --product headscale >"$WORK/build.log" 2>&1 || die "release build failed; see $WORK/build.log"
    swift build -c release --product hs-loadgen >>"$WORK/build.log" 2>&1 || die "release build failed; see $WORK/build.log"
fi
BIN=$(swift build -c release --show-bin-path)
HEADSCALE=$BIN/headscale
LOADGEN=$BIN/hs-loadgen
[ -x "$HEADSCALE" ] && [ -x "$LOADGEN" ] || die "no release binaries in $BIN; run without BENCH_SKIP_BUILD"

POLICY_MODE=database
source "$BENCH_DIR/lib.sh"

run_size() {
    local n=$1 dir=$WORK/n$n burst authkey status
    # The server refuses to start when the directory of its private keys is open to others.
    mkdir -p -m 700 "$dir"
    CONFIG=$dir/config.yaml
    write_config "$dir"
    write_restart_script "$dir"
    write_policy_script "$dir"
    start_server "$dir"
    trap 'stop_server "$dir"' EXIT
    authkey=$(create_user_and_key "$dir") || exit 1

    burst=${BENCH_BURST:-$((n / 2 < 1000 ? n / 2 : 1000))}
    local storm_args=()
    [ "${BENCH_STORM:-1}" = 1 ] && storm_args=(--restart-command "$dir/restart.sh")
    local policy_args=()
    [ "${BENCH_POLICY_JOINS:-20}" -gt 0 ] && policy_args=(--policy-file "$dir/policy.json"
        --policy-command "$dir/set-policy.sh" --policy-joins "${BENCH_POLICY_JOINS:-20}")
    # The recorded command shows placeholders instead of the key and the PID.
    loadgen_command() {
        echo taskset -c 1 "$LOADGEN" --server "127.0.0.1:$PORT" --authkey "$1" --nodes "$n" \
            --waves "${BENCH_WAVES:-4}" --sample "${BENCH_SAMPLE:-0.05}" --idle-seconds "${BENCH_IDLE_SECONDS:-15}" \
            --joins "${BENCH_JOINS:-20}" --endpoint-changes "${BENCH_ENDPOINT_CHANGES:-20}" \
            --online-changes "${BENCH_ONLINE_CHANGES:-10}" --burst "$burst" \
            --phase-timeout "${BENCH_PHASE_TIMEOUT:-120}" --server-pid "$2" "${storm_args[@]}" "${policy_args[@]}" \
            --output "$dir/results.json"
    }
    loadgen_command '<key>' '<server-pid>' >"$dir/command.txt"
    local command
    read -r -a command <<<"$(loadgen_command "$authkey" "$(cat "$dir/server.pid")")"
    log "N=$n: running the generator (work dir $dir)"
    if [ "${BENCH_PERF:-0}" = 1 ]; then
        perf record -F 499 -g -p "$(cat "$dir/server.pid")" -o "$dir/perf.data" >/dev/null 2>&1 &
        PERF_PID=$!
    fi
    "${command[@]}" >"$dir/loadgen.log" 2>&1
    status=$?
    [ -n "${PERF_PID:-}" ] && kill -INT "$PERF_PID" 2>/dev/null && wait "$PERF_PID" 2>/dev/null
    PERF_PID=
    tail -n 3 "$dir/loadgen.log"
    # Right after the generator exits, the server is still sending the online patches of N
    # disconnects and the CLI's 5 s deadline can expire, so retry for up to a minute.
    local attempt
    for attempt in $(seq 1 12); do
        hs nodes list -o json >"$dir/nodes.json" 2>>"$dir/cli.log" && break
        log "headscale nodes list failed (attempt $attempt); retrying in 5 s"
        sleep 5
    done
    python3 "$BENCH_DIR/report.py" nodes-check "$dir/nodes.json" >"$dir/nodes-check.json" ||
        log "nodes list check failed; see $dir/nodes-check.json"
    stop_server "$dir"
    trap - EXIT
    [ "$status" -le 1 ] || die "hs-loadgen failed at N=$n; see $dir/loadgen.log"
}

for n in "${SIZES[@]}"; do
    run_size "$n"
done
if [ "$DOC" != - ]; then
    # The page shows the knobs that change what is measured, so a rerun can repeat them.
    knobs=$(env | grep -E '^BENCH_(IDLE_SECONDS|JOINS|ENDPOINT_CHANGES|ONLINE_CHANGES|SAMPLE|BURST|WAVES|STORM|POLICY_JOINS|PHASE_TIMEOUT)=' |
        sort | tr '\n' ' ')
    python3 "$BENCH_DIR/report.py" render "$WORK" "$DOC" "$knobs$0 ${SIZES[*]}" || die "rendering $DOC failed"
    log "wrote $DOC"
fi
log "results and logs in $WORK"
