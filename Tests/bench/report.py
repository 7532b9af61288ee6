#!/usr/bin/env python3
"""Turn hs-loadgen results into docs/benchmarks.md; check `nodes list` for duplicate addresses.

Subcommands:
  nodes-check FILE                 read `headscale nodes list -o json`, print a JSON summary
                                   (node count, duplicate IPv4/IPv6 addresses); exit 1 on duplicates
  render WORK_DIR DOC COMMAND      read WORK_DIR/n*/results.json (+ nodes-check.json, command.txt)
                                   and write the load-generator section of the markdown page DOC,
                                   keeping its other sections; BENCH_COMMIT overrides the commit shown
"""

import datetime
import json
import os
import pathlib
import platform
import re
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "e2e"))
import hsjson  # noqa: E402  (shared parser for the CLI's JSON)


def nodes_check(path):
    rows = [hsjson.node_row(node) for node in hsjson.as_list(hsjson.load(path), "nodes", path)]
    seen, duplicates = {}, []
    for row in rows:
        for address in row["v4"] + row["v6"]:
            if address in seen:
                duplicates.append(f"{address} on nodes {seen[address]} and {row['id']}")
            seen[address] = row["id"]
    summary = {"nodes": len(rows), "online": sum(r["online"] for r in rows), "duplicate_addresses": duplicates}
    print(json.dumps(summary, indent=2))
    sys.exit(1 if duplicates else 0)


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as handle:
        total_kib = int(re.search(r"MemTotal:\s+(\d+)", handle.read()).group(1))
    return f"{cpu}, {os.cpu_count()} cores, {total_kib / 1024 / 1024:.1f} GiB RAM, Linux {platform.release()}"


def commit():
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)
        return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def fmt(value, unit="", digits=1):
    if value is None or value == -1:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def verdict(value, bar, lower_is_better=True):
    if value is None or value == -1:
        return "not measured"
    ok = value <= bar if lower_is_better else value >= bar
    return "meets" if ok else "MISSED"


def worst(*verdicts):
    """The verdict of a row with several bars: MISSED or not measured wins over meets."""
    for mark in ("MISSED", "not measured"):
        if mark in verdicts:
            return mark
    return "meets"


def load_runs(work):
    runs = []
    for directory in sorted(pathlib.Path(work).glob("n*"), key=lambda p: int(p.name[1:]) if p.name[1:].isdigit() else 0):
        results = directory / "results.json"
        if not results.exists():
            runs.append({"nodes": directory.name[1:], "missing": True})
            continue
        run = json.loads(results.read_text())
        checks = directory / "nodes-check.json"
        run["nodes_check"] = json.loads(checks.read_text()) if checks.exists() and checks.stat().st_size else {}
        command = directory / "command.txt"
        run["command"] = command.read_text().strip() if command.exists() else ""
        runs.append(run)
    return runs


def rows_for(run):
    n = run["nodes"]
    ramp, idle = run.get("ramp", {}), run.get("idle", {})
    joins, endpoint = run.get("joins", {}), run.get("endpoint_changes", {})
    burst, storm = run.get("burst", {}), run.get("storm", {})
    slope = ramp.get("rss_slope_bytes_per_node")
    slope_kib = slope / 1024 if slope is not None else None
    idle_cpu = idle.get("server_cpu_percent_of_one_core")
    join_p50, join_p99 = joins.get("latency_p50_ms"), joins.get("latency_p99_ms")
    full_map_p99 = storm.get("full_map_p99_ms")
    storm_bar = 10_000 if n <= 1000 else 20_000
    join_bar = 300 if n <= 1000 else 500
    duplicates = run.get("nodes_check", {}).get("duplicate_addresses")
    return [
        ("P1 idle server CPU (% of one core)", fmt(idle_cpu, " %", 2), "≤ 2 %", verdict(idle_cpu, 2)),
        ("P2 join delta, p50 over sampled peers", fmt(join_p50, " ms"), "≤ 100 ms (N=1000)", verdict(join_p50, 100)),
        ("P2 join delta, p99 over sampled peers", fmt(join_p99, " ms"), f"≤ {join_bar} ms", verdict(join_p99, join_bar)),
        ("P2 join: all sampled peers, p99 over joins", fmt(joins.get("all_observers_p99_ms"), " ms"), "—", ""),
        ("P3 bytes per peer-add delta (Noise records)", fmt(joins.get("wire_bytes_p50"), " B", 0), "≤ 1,500 B",
         verdict(joins.get("wire_bytes_p50"), 1500)),
        ("P3 bytes per endpoint-change delta", fmt(endpoint.get("wire_bytes_p50"), " B", 0), "≤ 300 B",
         verdict(endpoint.get("wire_bytes_p50"), 300)),
        ("Endpoint change delta, p50 / p99", f"{fmt(endpoint.get('latency_p50_ms'), ' ms')} / "
         f"{fmt(endpoint.get('latency_p99_ms'), ' ms')}", "—", ""),
    ] + online_rows(run.get("online_changes")) + [
        ("P4 initial full map on the wire (p50)", fmt(storm.get("initial_full_map_wire_bytes_p50"), " B", 0),
         "≤ 250 KB (N=1000)", verdict(storm.get("initial_full_map_wire_bytes_p50"), 250_000)),
        ("P5 storm: full map after restart, p99", fmt(full_map_p99, " ms"), f"≤ {storm_bar // 1000} s",
         verdict(full_map_p99, storm_bar)),
        ("P5 storm: clients with a full map", f"{storm.get('got_full_map', 'n/a')} / {storm.get('clients', 'n/a')}",
         "all", "meets" if storm and storm.get("got_full_map") == storm.get("clients") else
         ("not measured" if not storm else "MISSED")),
        ("P6 RSS slope per connected node", fmt(slope_kib, " KiB"), "≤ 64 KiB", verdict(slope_kib, 64)),
        ("P7 burst registrations per second", fmt(burst.get("registrations_per_second"), "/s"),
         "≥ 100/s", verdict(burst.get("registrations_per_second"), 100, lower_is_better=False)),
        ("P7 register p99 (burst)", fmt(burst.get("register_p99_ms"), " ms"), "≤ 200 ms",
         verdict(burst.get("register_p99_ms"), 200)),
        ("P7 burst errors / duplicate addresses",
         f"{sum((burst.get('errors') or {}).values())} / {len(duplicates) if duplicates is not None else 'n/a'}",
         "0 / 0", "meets" if not (burst.get("errors") or duplicates) else "MISSED"),
    ] + policy_rows(run.get("policy"), join_bar)


def online_rows(online):
    """Rows for the online-change scenario: bytes of the offline and the online delta, p50 and max."""
    if not online:
        return []
    rows = []
    for kind, label in (("offline", "stream closed"), ("online", "stream reopened")):
        summary = online.get(kind, {})
        p50, largest = summary.get("wire_bytes_p50"), summary.get("wire_bytes_max")
        whole = summary.get("whole_entry_arrivals")
        form = f" ({whole} of {summary.get('arrivals', 0)} as whole peer entries)" if whole else ""
        rows.append((f"P3 bytes per online-change delta, {label} (p50 / max)",
                     f"{fmt(p50, ' B', 0)} / {fmt(largest, ' B', 0)}{form}", "≤ 150 B", verdict(p50, 150)))
    return rows


def policy_rows(policy, join_bar):
    """Rows for the per-block policy scenario, or none when the run skipped it."""
    if not policy:
        return []
    joins, applied, changed = policy.get("joins", {}), policy.get("set", {}), policy.get("change", {})
    hidden = joins.get("unexpected_arrivals")
    return [
        ("Policy: join delta, p50 / p99 over sampled peers allowed to see it",
         f"{fmt(joins.get('latency_p50_ms'), ' ms')} / {fmt(joins.get('latency_p99_ms'), ' ms')}",
         f"≤ 100 / {join_bar} ms", worst(verdict(joins.get("latency_p50_ms"), 100),
                                        verdict(joins.get("latency_p99_ms"), join_bar))),
        ("Policy: bytes per peer-add delta", fmt(joins.get("wire_bytes_p50"), " B", 0), "≤ 1,500 B",
         verdict(joins.get("wire_bytes_p50"), 1500)),
        ("Policy: join deltas missing / sent to hidden peers",
         f"{joins.get('missing_arrivals', 'n/a')} / {fmt(hidden)}", "0 / 0",
         "meets" if joins.get("missing_arrivals") == 0 and hidden == 0 else "MISSED"),
        ("Policy set: new filter at every sampled client (CLI run included)",
         f"{fmt(applied.get('all_observers_p99_ms'), ' ms')} (CLI {fmt(applied.get('command_seconds'), ' s', 2)})",
         "—", ""),
        ("Policy change: new filter at every sampled client (CLI run included)",
         f"{fmt(changed.get('all_observers_p99_ms'), ' ms')} (CLI {fmt(changed.get('command_seconds'), ' s', 2)})",
         "—", ""),
    ]


def render_run(run):
    if run.get("missing"):
        return [f"#### N = {run['nodes']}", "", "No results: the run did not finish (see its loadgen.log).", ""]
    totals = run.get("totals", {})
    lines = [f"#### N = {run['nodes']}", ""]
    lines += ["| Measure | Result | Target | |", "|---|---|---|---|"]
    lines += [f"| {name} | {value} | {bar} | {mark} |" for name, value, bar, mark in rows_for(run)]
    idle = run.get("idle", {})
    lines += ["", f"- Idle window: started after {fmt(idle.get('settle_seconds'), ' s')} of waiting for the ramp's "
              f"deltas to drain; {fmt(idle.get('messages'))} map messages arrived during it."]
    lines += [f"- Generator CPU during the idle window: {fmt(idle.get('generator_cpu_percent_of_one_core'), ' %', 2)} "
              f"of one core; generator CPU for the whole run: {fmt(run.get('generator_cpu_seconds'), ' s')}; "
              f"server CPU before the storm: {fmt(run.get('server_cpu_seconds_before_storm'), ' s')}."]
    for wave in run.get("ramp", {}).get("waves", []):
        lines.append(f"- Ramp wave of {wave['clients']}: {wave['registered']} registered in {wave['seconds']:.2f} s "
                     f"({wave['registrations_per_second']:.0f}/s, register p99 {wave['register_p99_ms']:.0f} ms), "
                     f"server RSS {wave['server_rss_bytes'] / 1048576:.1f} MiB with {wave['open_streams']} streams.")
    ramp_events = run.get("ramp", {}).get("events", {})
    lines.append(f"- Correctness: {ramp_events.get('arrivals', 0)} ramp join deltas checked at sampled clients, "
                 f"{ramp_events.get('missing_arrivals', 'n/a')} missing; totals: {json.dumps(totals, sort_keys=True)}.")
    online = run.get("online_changes")
    if online:
        offline_events, online_events = online.get("offline", {}), online.get("online", {})
        lines.append(f"- Online changes: {online.get('clients', 0)} sampled clients closed their connection and "
                     f"reconnected one at a time, 0.3 s apart; {offline_events.get('arrivals', 0)} offline and "
                     f"{online_events.get('arrivals', 0)} online deltas checked at the other sampled clients, "
                     f"{offline_events.get('missing_arrivals', 'n/a')} and "
                     f"{online_events.get('missing_arrivals', 'n/a')} missing.")
    if run.get("missing_deltas"):
        lines.append(f"- First missing deltas: {'; '.join(run['missing_deltas'][:5])}")
    storm = run.get("storm")
    if storm:
        lines.append(f"- Storm: restart took {storm['restart_seconds']:.1f} s; full map p50 "
                     f"{fmt(storm['full_map_p50_ms'], ' ms')}, max {fmt(storm['full_map_max_ms'], ' ms')}; "
                     f"connection ends: {json.dumps(storm['connection_end_reasons'], sort_keys=True)}.")
    policy = run.get("policy")
    if policy and "blocks" in policy:
        applied, changed = policy.get("set", {}), policy.get("change", {})
        lines.append(f"- Policy: {policy['blocks']} blocks of {policy['block_size']} addresses, one ACL rule per "
                     f"block, so each block has its own filter and sees {policy['visible_fraction'] * 100:.0f} % of "
                     f"the blocks; {policy['joins'].get('events', 0)} joins under it "
                     f"({policy['joins'].get('observers_per_event_p50', 'n/a')} sampled peers allowed per join, p50). "
                     f"Set: {applied.get('arrivals', 0)} sampled clients got the filter, message "
                     f"{fmt(applied.get('wire_bytes_p50'), ' B', 0)} (p50); change: {changed.get('arrivals', 0)} "
                     f"clients, message {fmt(changed.get('wire_bytes_p50'), ' B', 0)} (p50).")
    lines += ["", f"Command: `{run['command']}`", ""]
    return lines


START_MARK = "<!-- load-generator results: written by Tests/bench/report.py -->"
END_MARK = "<!-- end of load-generator results -->"


def splice(doc, section):
    """Replace the load-generator section of DOC, or append it; other sections stay as they are."""
    path = pathlib.Path(doc)
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{START_MARK}\n{section.rstrip()}\n{END_MARK}\n"
    if START_MARK in text and END_MARK in text:
        head, rest = text.split(START_MARK, 1)
        tail = rest.split(END_MARK, 1)[1].lstrip("\n")
        text = head + block + ("\n" + tail if tail else "")
    else:
        text = text.rstrip() + "\n\n" + block
    path.write_text(text)


def render(work, doc, command):
    runs = load_runs(work)
    bench_dir = pathlib.Path(__file__).resolve().parent
    notes_paths = [bench_dir / "notes.md", bench_dir / "realclients-notes.md"]
    lines = [
        "## Control server under load",
        "",
        "Load-generator results for the control server, measured with `Tests/bench/run.sh` against the targets in",
        "the project's performance goals (listed in the Target column). The generator (`hs-loadgen`) simulates every",
        "client in one process over loopback with the real protocol: `/key`, the `/ts2021` upgrade, Noise IK, HTTP/2,",
        "registration with a pre-auth key and a zstd map stream. Server pinned to core 0, generator to core 1.",
        "",
        f"- Machine: {machine()}",
        f"- Commit: {os.environ.get('BENCH_COMMIT') or commit()}",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Command: `{command}`",
        "",
        "### Results",
        "",
    ]
    for run in runs:
        lines += render_run(run)
    for notes_path in notes_paths:
        if notes_path.exists():
            lines += [notes_path.read_text().rstrip(), ""]
    splice(doc, "\n".join(lines))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "nodes-check":
        nodes_check(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "render":
        render(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
