#!/usr/bin/env bash
# Usage: Tests/bench/smoke.sh [BIN_DIR]      (BIN_DIR: where `headscale` and `hs-loadgen` are;
#                                            default: the debug build path)
#
# The load smoke test CI runs: a fresh server on loopback, 200 simulated clients in 4 concurrent
# waves that all decode every map message, then 10 joins, 10 endpoint changes and 5 clients going
# offline and online again, then a policy
# that gives each block of addresses its own filter (set with `headscale policy set`), 5 joins
# under it and a change of it. It checks
# correctness, not speed: every client must see every join and endpoint change that happened
# while its stream was open (under the policy: every client allowed to see it, and no other), every
# other client must see each offline and online change,
# every client must get each new filter, every registration must succeed, no stream may abort, and
# `headscale nodes list` must show no duplicate address. Exits 1 on any failure.
# Knobs: SMOKE_NODES (200), BENCH_PORT (18180), SMOKE_KEEP=1 keeps the work dir.
set -u -o pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_DIR=$REPO/Tests/bench
BIN=${1:-$(cd "$REPO" && swift build --show-bin-path)}
HEADSCALE=$BIN/headscale
LOADGEN=$BIN/hs-loadgen
PORT=${BENCH_PORT:-18180}
NODES=${SMOKE_NODES:-200}
WORK=$(mktemp -d /tmp/hs-smoke.XXXXXX)
SERVER_TASKSET=""
POLICY_MODE=database
POLICY_JOINS=5
ONLINE_CHANGES=5

die() {
    echo "FAIL: load smoke test: $*"
    exit 1
}

log() { printf '[smoke %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# shellcheck source=Tests/bench/lib.sh
source "$BENCH_DIR/lib.sh"

[ -x "$HEADSCALE" ] && [ -x "$LOADGEN" ] || die "no headscale or hs-loadgen in $BIN; run 'swift build' first"
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((NODES * 2 + 200)) ] || die "open-file limit $(ulimit -n) is too low for $NODES clients"

CONFIG=$WORK/config.yaml
write_config "$WORK"
write_policy_script "$WORK"
start_server "$WORK"
cleanup() {
    stop_server "$WORK"
    if [ "${SMOKE_KEEP:-0}" = 1 ] || [ "${SMOKE_PASSED:-0}" != 1 ]; then
        echo "smoke work dir kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
authkey=$(create_user_and_key "$WORK") || exit 1

log "running $NODES clients against $HEADSCALE"
timeout 300 "$LOADGEN" --server "127.0.0.1:$PORT" --authkey "$authkey" --nodes "$NODES" --waves 4 --sample 1 \
    --idle-seconds 0 --joins 10 --endpoint-changes 10 --online-changes "$ONLINE_CHANGES" --phase-timeout 90 \
    --require-complete \
    --policy-file "$WORK/policy.json" --policy-command "$WORK/set-policy.sh" --policy-joins "$POLICY_JOINS" \
    --output "$WORK/results.json" >"$WORK/loadgen.log" 2>&1
status=$?
tail -n 2 "$WORK/loadgen.log"
[ "$status" = 0 ] || die "hs-loadgen exited with status $status (missing deltas or failed clients); see $WORK/loadgen.log and $WORK/results.json"

# --require-complete already fails on a lost delta; this also fails when the scenario did not run.
python3 - "$WORK/results.json" "$ONLINE_CHANGES" <<'PY' || die "online changes were not measured; see $WORK/results.json"
import json, sys
online = json.load(open(sys.argv[1])).get("online_changes", {})
for kind in ("offline", "online"):
    summary = online.get(kind, {})
    if summary.get("events") != int(sys.argv[2]) or summary.get("missing_arrivals") != 0 or summary.get("arrivals", 0) == 0:
        sys.exit(f"{kind} changes: {json.dumps(summary)}")
PY

# The server may still be sending the online patches of the clients that just disconnected.
for attempt in 1 2 3 4 5 6; do
    hs nodes list -o json >"$WORK/nodes.json" 2>>"$WORK/cli.log" && break
    [ "$attempt" = 6 ] && die "headscale nodes list -o json failed 6 times; see $WORK/cli.log"
    sleep 5
done
python3 "$BENCH_DIR/report.py" nodes-check "$WORK/nodes.json" >"$WORK/nodes-check.json" ||
    die "duplicate node addresses: $(cat "$WORK/nodes-check.json")"
listed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["nodes"])' "$WORK/nodes-check.json")
expected=$((NODES + 10 + POLICY_JOINS))
[ "$listed" = "$expected" ] || die "nodes list shows $listed nodes, expected $expected"
SMOKE_PASSED=1
echo "PASS: load smoke test ($NODES clients, every join, endpoint and policy delta seen by every client allowed to)"
