#!/usr/bin/env python3
"""Read the JSON that `headscale ... -o json` prints, for the end-to-end shell tests.

Headscale's CLI marshals its protobuf structs with Go's encoding/json, so fields are snake_case
(`ip_addresses`, `given_name`), ids are numbers and a false `online` is left out. The REST API
spells the same fields in camelCase. Both spellings are accepted, and a list may come bare or
wrapped in an object (`{"nodes": [...]}`).

Subcommands (FILE is the saved CLI output):
  user-id NAME FILE        print the id of the user called NAME
  authkey FILE             print the `key` of a created pre-auth key
  nodes FILE               print one tab-separated line per node:
                           id, hostname, given name, online (1/0), IPv4s, IPv6s (comma-separated)
  check-nodes FILE HOSTS   check that the nodes are exactly HOSTS (comma-separated hostnames),
                           each online with one IPv4 in 100.64.0.0/10 and one IPv6 in
                           fd7a:115c:a1e0::/48; print one line per node, exit 1 with the reasons
  netmap FILE PEER         check that `tailscale debug netmap` output parses and lists a peer
                           whose name starts with PEER; print the peer count
Exit status 2 means the input itself is unusable (missing file, not JSON, wrong shape).
"""

import ipaddress
import json
import sys

CGNAT = ipaddress.ip_network("100.64.0.0/10")
TAILSCALE_ULA = ipaddress.ip_network("fd7a:115c:a1e0::/48")


def die(message, status=2):
    print(f"hsjson: {message}", file=sys.stderr)
    sys.exit(status)


def load(path):
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        die(f"cannot read {path}: {error}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        die(f"{path} is not JSON ({error}); it starts with {text[:120]!r}")


def field(obj, *names, default=None):
    for name in names:
        if name in obj:
            return obj[name]
    return default


def as_list(doc, wrapper, path):
    if isinstance(doc, dict):
        doc = field(doc, wrapper, default=doc)
    if doc is None:
        return []
    if not isinstance(doc, list):
        die(f"{path}: expected a JSON list (or an object with '{wrapper}'), got {type(doc).__name__}")
    return doc


def node_row(node):
    raw = field(node, "ip_addresses", "ipAddresses", default=[]) or []
    try:
        addresses = [ipaddress.ip_address(a) for a in raw]
    except ValueError as error:
        die(f"node {field(node, 'name')!r} has an invalid address in {raw}: {error}", 1)
    return {
        "id": str(field(node, "id", default="?")),
        "name": field(node, "name", default=""),
        "given": field(node, "given_name", "givenName", default=""),
        "online": bool(field(node, "online", default=False)),
        "v4": [a for a in addresses if a.version == 4],
        "v6": [a for a in addresses if a.version == 6],
    }


def cmd_user_id(name, path):
    for user in as_list(load(path), "users", path):
        if field(user, "name") == name:
            print(field(user, "id"))
            return
    die(f"{path}: no user named {name!r}", 1)


def cmd_authkey(path):
    doc = load(path)
    if isinstance(doc, dict):
        doc = field(doc, "pre_auth_key", "preAuthKey", default=doc)
    key = field(doc, "key") if isinstance(doc, dict) else None
    if not isinstance(key, str) or not key:
        die(f"{path}: no 'key' string in the pre-auth key output", 1)
    print(key)


def cmd_nodes(path):
    for node in as_list(load(path), "nodes", path):
        row = node_row(node)
        v4 = ",".join(map(str, row["v4"]))
        v6 = ",".join(map(str, row["v6"]))
        print(f"{row['id']}\t{row['name']}\t{row['given']}\t{int(row['online'])}\t{v4}\t{v6}")


def node_problems(row):
    problems = []
    if not row["online"]:
        problems.append("not online")
    if len(row["v4"]) != 1 or row["v4"][0] not in CGNAT:
        problems.append(f"IPv4 addresses {list(map(str, row['v4']))}, expected one in {CGNAT}")
    if len(row["v6"]) != 1 or row["v6"][0] not in TAILSCALE_ULA:
        problems.append(f"IPv6 addresses {list(map(str, row['v6']))}, expected one in {TAILSCALE_ULA}")
    return problems


def cmd_check_nodes(path, hosts):
    expected = sorted(h for h in hosts.split(",") if h)
    rows = [node_row(node) for node in as_list(load(path), "nodes", path)]
    failures = []
    for row in rows:
        addresses = " ".join(map(str, row["v4"] + row["v6"]))
        print(f"node {row['id']} {row['name']} (given name {row['given']}): online={row['online']} {addresses}")
        failures += [f"node {row['name']}: {problem}" for problem in node_problems(row)]
    names = sorted(row["name"] for row in rows)
    if names != expected:
        failures.append(f"hostnames are {names}, expected exactly {expected}")
    for failure in failures:
        print(f"problem: {failure}")
    sys.exit(1 if failures else 0)


def cmd_netmap(path, peer):
    doc = load(path)
    if isinstance(doc, dict) and "NetMap" in doc:
        doc = doc["NetMap"]
    if not isinstance(doc, dict):
        die(f"{path}: expected a netmap object, got {type(doc).__name__}", 1)
    peers = field(doc, "Peers", default=[]) or []
    names = [str(field(p, "Name", "ComputedName", default="")) for p in peers if isinstance(p, dict)]
    if not any(name.startswith(peer) for name in names):
        die(f"{path}: no peer named {peer}* among {names}", 1)
    print(len(peers))


def main(argv):
    commands = {
        "user-id": (cmd_user_id, 2),
        "authkey": (cmd_authkey, 1),
        "nodes": (cmd_nodes, 1),
        "check-nodes": (cmd_check_nodes, 2),
        "netmap": (cmd_netmap, 2),
    }
    if len(argv) < 2 or argv[1] not in commands or len(argv) - 2 != commands[argv[1]][1]:
        print(__doc__, file=sys.stderr)
        die(f"invalid arguments {argv[1:]}")
    function, _ = commands[argv[1]]
    function(*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
