#!/usr/bin/env python3
"""Helpers for Tests/bench/realclients.sh: timestamps, log arrivals, /metrics and the summary.

Subcommands:
  stamp OUT -- COMMAND...      run COMMAND and write each stdout line to OUT as
                               "<epoch seconds>\\t<line>"; SIGTERM stops COMMAND too
  log-time FILE PATTERN        print the epoch seconds of the first server log line matching the
                               regular expression PATTERN (logfmt time=, ISO 8601 UTC, ms precision)
  arrivals T0 HOST LOG...      for each client log, print "<log>\\t<seconds>" from T0 to the first
                               line at or after T0 that names HOST (not followed by [0-9a-z-]).
                               A log without such a line prints "<log>\\t-", and the exit status is 1
  metrics URL OUT              save the headscale_ samples of URL (a /metrics page) to OUT as JSON
  cpu PID                      print the process's user plus system CPU seconds from /proc
  rss PID                      print the process's resident set size in bytes from /proc
  summary WORK WINDOW          read the files realclients.sh wrote under WORK/real and WORK/gen
                               (WINDOW: seconds of counters per join), write WORK/summary.json and
                               print the comparison table as markdown

Client log lines carry their own time: caddy's JSON logger writes "ts" in epoch seconds with
microseconds, and `stamp` writes the epoch seconds first. The Go standard logger writes
"YYYY/MM/DD HH:MM:SS.micro" in local time only with its microseconds flag, which the forwarder does
not set. A line without a sub-second time is skipped.
"""

import calendar
import datetime
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

CADDY_TS = re.compile(r'"ts":\s*([0-9]+\.[0-9]+)')
STAMPED = re.compile(r"^([0-9]+\.[0-9]+)\t")
GO_LOG = re.compile(r"^(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d+) ")
SERVER_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z")


def fail(message, status=2):
    print(f"realclients.py: {message}", file=sys.stderr)
    sys.exit(status)


def stamp(out_path, command):
    child = subprocess.Popen(command, stdout=subprocess.PIPE)

    def stop(_signum, _frame):
        child.terminate()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with open(out_path, "a", encoding="utf-8") as out:
        for raw in iter(child.stdout.readline, b""):
            out.write(f"{time.time():.6f}\t{raw.decode('utf-8', 'replace')}")
            out.flush()
    sys.exit(child.wait())


def line_time(line):
    """Returns the epoch seconds a client log line carries, or None."""
    match = STAMPED.match(line) or CADDY_TS.search(line)
    if match:
        return float(match.group(1))
    match = GO_LOG.match(line)
    if match:
        parts = [int(group) for group in match.groups()[:6]]
        fraction = float("0." + match.group(7))
        return time.mktime(datetime.datetime(*parts).timetuple()) + fraction
    return None


def server_line_time(line):
    match = SERVER_TIME.search(line)
    if not match:
        return None
    year, month, day, hour, minute, second, millis = (int(group) for group in match.groups())
    return calendar.timegm((year, month, day, hour, minute, second)) + millis / 1000


def log_time(path, pattern):
    regex = re.compile(pattern)
    try:
        with open(path, encoding="utf-8", errors="replace") as log:
            for line in log:
                if regex.search(line):
                    seconds = server_line_time(line)
                    if seconds is not None:
                        print(f"{seconds:.3f}")
                        return
    except OSError as error:
        fail(f"cannot read server log {path}: {error}")
    sys.exit(1)


def first_arrival(path, start, host_pattern):
    try:
        with open(path, encoding="utf-8", errors="replace") as log:
            for line in log:
                if not host_pattern.search(line):
                    continue
                seconds = line_time(line)
                if seconds is not None and seconds >= start:
                    return seconds - start
    except OSError:
        return None
    return None


def arrivals(start, host, paths):
    host_pattern = re.compile(re.escape(host) + r"(?![0-9a-z-])")
    missing = 0
    for path in paths:
        latency = first_arrival(path, start, host_pattern)
        if latency is None:
            missing += 1
            print(f"{path}\t-")
        else:
            print(f"{path}\t{latency:.6f}")
    sys.exit(1 if missing else 0)


def metrics(url, out_path):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode("utf-8")
    except OSError as error:
        fail(f"GET {url} failed: {error}")
    samples = {}
    for line in text.splitlines():
        if line.startswith("headscale_"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump({"time": time.time(), "samples": samples}, out, indent=1, sort_keys=True)


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # After the command name: utime and stime are the 12th and 13th fields, in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    fail(f"/proc/{pid}/status has no VmRSS line")


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def slope(points):
    """Least-squares slope of [(x, y)], or None with fewer than two distinct x."""
    if len(points) < 2 or len({x for x, _ in points}) < 2:
        return None
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    numerator = sum((x - mean_x) * (y - mean_y) for x, y in points)
    denominator = sum((x - mean_x) ** 2 for x, _ in points)
    return numerator / denominator


def counter(snapshot, name, kind):
    return snapshot["samples"].get(f'{name}{{kind="{kind}"}}', 0.0)


def counter_change(before, after, name, kind):
    return counter(after, name, kind) - counter(before, name, kind)


def load_json(path):
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError) as error:
        fail(f"cannot read {path}: {error}")


def read_rows(path):
    """Returns the tab-separated rows of `path` as lists of strings."""
    try:
        with open(path, encoding="utf-8") as file:
            return [line.rstrip("\n").split("\t") for line in file if line.strip()]
    except OSError as error:
        fail(f"cannot read {path}: {error}")


def join_summary(join_dir):
    start = load_json(os.path.join(join_dir, "metrics-start.json"))
    seen = load_json(os.path.join(join_dir, "metrics-seen.json"))
    end = load_json(os.path.join(join_dir, "metrics-end.json"))
    peers = int(read_rows(os.path.join(join_dir, "peers"))[0][0])
    rows = read_rows(os.path.join(join_dir, "arrivals.tsv"))
    latencies = [float(row[1]) for row in rows if row[1] != "-"]
    messages = "headscale_map_messages_sent_total"
    sent_bytes = "headscale_map_bytes_sent_total"
    first_messages = counter_change(start, seen, messages, "delta")
    return {
        "peers": peers,
        "latencies": latencies,
        "missing": len(rows) - len(latencies),
        "first_delta_messages": first_messages,
        "first_delta_bytes": counter_change(start, seen, sent_bytes, "delta") / first_messages
        if first_messages else None,
        "delta_messages": counter_change(start, end, messages, "delta"),
        "delta_bytes": counter_change(start, end, sent_bytes, "delta"),
        "full_messages": counter_change(start, end, messages, "full"),
        "full_bytes": counter_change(start, end, sent_bytes, "full"),
    }


def join_aggregates(joins):
    """Latency percentiles and per-peer message counts and sizes over every timed join."""
    latencies = [value for join in joins for value in join["latencies"]]
    per_join_max = [max(join["latencies"]) for join in joins if join["latencies"] and not join["missing"]]
    per_join_min = [min(join["latencies"]) for join in joins if join["latencies"]]
    first_messages = [join["first_delta_messages"] / join["peers"] for join in joins]
    first_bytes = [join["first_delta_bytes"] for join in joins if join["first_delta_bytes"]]
    delta_messages = [join["delta_messages"] / join["peers"] for join in joins]
    delta_bytes = [join["delta_bytes"] / join["peers"] for join in joins]
    joiner_full = [join["full_bytes"] / join["full_messages"] for join in joins if join["full_messages"]]
    return {
        "join_latency_p50_ms": _ms(percentile(latencies, 0.5)),
        "join_latency_p99_ms": _ms(percentile(latencies, 0.99)),
        "join_first_peer_p50_ms": _ms(percentile(per_join_min, 0.5)),
        "join_all_peers_p50_ms": _ms(percentile(per_join_max, 0.5)),
        "join_all_peers_max_ms": _ms(max(per_join_max) if per_join_max else None),
        "join_arrivals": len(latencies),
        "join_missing": sum(join["missing"] for join in joins),
        "first_delta_messages_per_peer": _mean(first_messages),
        "first_delta_bytes_p50": percentile(first_bytes, 0.5),
        "delta_messages_per_peer_per_join": _mean(delta_messages),
        "delta_bytes_per_peer_per_join": _mean(delta_bytes),
        "joiner_full_map_bytes_p50": percentile(joiner_full, 0.5),
    }


def real_summary(work, join_window):
    real = os.path.join(work, "real")
    joins_dir = os.path.join(real, "joins")
    joins = [join_summary(os.path.join(joins_dir, name))
             for name in sorted(os.listdir(joins_dir), key=int)]
    run_end = load_json(os.path.join(joins_dir, str(len(joins)), "metrics-end.json")) if joins else None
    ramp_before = load_json(os.path.join(real, "metrics-ramp-before.json"))
    idle_before = load_json(os.path.join(real, "metrics-idle-before.json"))
    idle_after = load_json(os.path.join(real, "metrics-idle-after.json"))
    idle_seconds, idle_cpu = (float(value) for value in read_rows(os.path.join(real, "idle.tsv"))[0])
    rss_points = [(float(x), float(y)) for x, y in read_rows(os.path.join(real, "rss.tsv"))]
    messages = "headscale_map_messages_sent_total"

    return {
        **(run_counters(ramp_before, run_end) if run_end else {}),
        **join_aggregates(joins),
        "nodes": int(read_rows(os.path.join(real, "nodes"))[0][0]),
        "idle_cpu_percent": 100 * idle_cpu / idle_seconds,
        "idle_seconds": idle_seconds,
        "idle_cpu_seconds": idle_cpu,
        "idle_delta_messages": counter_change(idle_before, idle_after, messages, "delta"),
        "idle_keepalives": counter_change(idle_before, idle_after, messages, "keep_alive"),
        "rss_slope_bytes_per_node": slope(rss_points),
        "rss_points": rss_points,
        "joins": joins,
        "joins_count": len(joins),
        "join_window_seconds": join_window,
    }


def _mean(values):
    return statistics.fmean(values) if values else None


def run_counters(before, after):
    """Full-map and delta counts and mean sizes (server framing) between two /metrics snapshots."""
    messages = "headscale_map_messages_sent_total"
    sent_bytes = "headscale_map_bytes_sent_total"
    result = {}
    for kind in ("full", "delta"):
        count = counter_change(before, after, messages, kind)
        result[f"run_{kind}_messages"] = count
        result[f"run_{kind}_bytes_mean"] = counter_change(before, after, sent_bytes, kind) / count if count else None
    return result


def _ms(seconds):
    return None if seconds is None else 1000 * seconds


def generator_summary(work):
    results = load_json(os.path.join(work, "gen", "results.json"))
    before = load_json(os.path.join(work, "gen", "metrics-before.json"))
    after = load_json(os.path.join(work, "gen", "metrics-after.json"))
    joins = results.get("joins", {})
    idle = results.get("idle", {})
    ramp = results.get("ramp", {})
    latencies = [value for value in (joins.get("latency_p50_ms"),) if value is not None]
    return {
        **run_counters(before, after),
        "idle_cpu_percent": idle.get("server_cpu_percent_of_one_core"),
        "idle_messages": idle.get("messages"),
        "rss_slope_bytes_per_node": ramp.get("rss_slope_bytes_per_node"),
        "join_latency_p50_ms": latencies[0] if latencies else None,
        "join_latency_p99_ms": joins.get("latency_p99_ms"),
        "join_all_peers_p50_ms": joins.get("all_observers_p50_ms"),
        "join_all_peers_max_ms": joins.get("latency_max_ms"),
        "join_missing": joins.get("missing_arrivals"),
        "join_arrivals": joins.get("arrivals"),
        "join_wire_bytes_p50": joins.get("wire_bytes_p50"),
        "clients": results.get("totals", {}).get("clients"),
    }


def fmt(value, unit="", digits=1):
    if value is None or value == -1:
        return "n/a"
    return f"{value:,.{digits}f}{unit}"


def summary(work, join_window):
    real = real_summary(work, join_window)
    gen = generator_summary(work)
    with open(os.path.join(work, "summary.json"), "w", encoding="utf-8") as out:
        json.dump({"real": real, "generator": gen}, out, indent=1, sort_keys=True)
    kib = 1024
    nodes = real["nodes"] + real["joins_count"]
    rows = [
        ("Idle server CPU, % of one core", fmt(real["idle_cpu_percent"], " %", 2),
         fmt(gen["idle_cpu_percent"], " %", 2), "≤ 2 %"),
        ("Server RSS slope per connected node (4 ramp waves)",
         fmt(_div(real["rss_slope_bytes_per_node"], kib), " KiB"),
         fmt(_div(gen["rss_slope_bytes_per_node"], kib), " KiB"), "≤ 64 KiB"),
        ("Join delta, p50 over peers", fmt(real["join_latency_p50_ms"], " ms"),
         fmt(gen["join_latency_p50_ms"], " ms"), "≤ 100 ms (N=1000)"),
        ("Join delta, p99 over peers", fmt(real["join_latency_p99_ms"], " ms"),
         fmt(gen["join_latency_p99_ms"], " ms"), "≤ 300 ms"),
        ("Join delta at the first peer, p50 over joins", fmt(real["join_first_peer_p50_ms"], " ms"), "n/a", "—"),
        ("Join reached every peer, p50 over joins", fmt(real["join_all_peers_p50_ms"], " ms"),
         fmt(gen["join_all_peers_p50_ms"], " ms"), "—"),
        ("Join reached every peer, max", fmt(real["join_all_peers_max_ms"], " ms"),
         fmt(gen["join_all_peers_max_ms"], " ms"), "—"),
        ("Join arrivals timed / missing", f"{real['join_arrivals']} / {real['join_missing']}",
         f"{fmt(gen['join_arrivals'], '', 0)} / {fmt(gen['join_missing'], '', 0)}", "— / 0"),
        ("Delta messages per peer until every peer saw the join",
         fmt(real["first_delta_messages_per_peer"], "", 2), "1 (by construction)", "—"),
        ("Peer-add delta, framed (length + zstd), p50 over joins", fmt(real["first_delta_bytes_p50"], " B", 0),
         "n/a", "≤ 1,500 B"),
        ("Peer-add delta on the wire (Noise records), p50", "not observable",
         fmt(gen["join_wire_bytes_p50"], " B", 0), "≤ 1,500 B"),
        (f"Delta messages per peer per join, {real['join_window_seconds']:g} s after the stream opened",
         fmt(real["delta_messages_per_peer_per_join"], "", 2), "1 (by construction)", "—"),
        ("Delta bytes per peer per join, same window (framed)", fmt(real["delta_bytes_per_peer_per_join"], " B", 0),
         "n/a", "—"),
        ("Full map of a joiner (framed, p50)", fmt(real["joiner_full_map_bytes_p50"], " B", 0), "n/a",
         "≤ 250 KB (N=1000)"),
        (f"Whole run ({nodes} nodes): full maps sent / mean framed size",
         f"{real['run_full_messages']:.0f} / {fmt(real['run_full_bytes_mean'], ' B', 0)}",
         f"{gen['run_full_messages']:.0f} / {fmt(gen['run_full_bytes_mean'], ' B', 0)}", "—"),
        ("Whole run: delta messages sent / mean framed size",
         f"{real['run_delta_messages']:.0f} / {fmt(real['run_delta_bytes_mean'], ' B', 0)}",
         f"{gen['run_delta_messages']:.0f} / {fmt(gen['run_delta_bytes_mean'], ' B', 0)}", "—"),
        (f"Idle window ({real['idle_seconds']:g} s): server CPU seconds", fmt(real["idle_cpu_seconds"], " s", 2),
         "n/a", "—"),
        ("Idle window: deltas sent by the server / map messages the generator received",
         f"{real['idle_delta_messages']:.0f} deltas", fmt(gen["idle_messages"], " messages", 0), "—"),
    ]
    print("| Measure | Real clients | Generator | Target |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _div(value, divisor):
    return None if value is None else value / divisor


def main(argv):
    if len(argv) < 2:
        fail("missing subcommand\n" + __doc__)
    command, args = argv[1], argv[2:]
    if command == "stamp" and len(args) >= 3 and args[1] == "--":
        stamp(args[0], args[2:])
    elif command == "log-time" and len(args) == 2:
        log_time(args[0], args[1])
    elif command == "arrivals" and len(args) >= 3:
        arrivals(float(args[0]), args[1], args[2:])
    elif command == "metrics" and len(args) == 2:
        metrics(args[0], args[1])
    elif command == "cpu" and len(args) == 1:
        print(f"{proc_cpu(args[0]):.3f}")
    elif command == "rss" and len(args) == 1:
        print(proc_rss(args[0]))
    elif command == "summary" and len(args) == 2:
        summary(args[0], float(args[1]))
    else:
        fail(f"invalid arguments {argv[1:]}\n" + __doc__)


if __name__ == "__main__":
    main(sys.argv)
