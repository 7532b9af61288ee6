#!/usr/bin/env python3
"""A stand-in for the headscale binary that checks the end-to-end harness itself.

It implements only what the harness calls: `-c CONFIG serve` (HTTPS on listen_addr with the
configured certificate, `GET /health`, the unix socket) and the CLI commands `users create`,
`users list -o json`, `preauthkeys create -o json` and `nodes list -o json`, which share a JSON
file beside the configured SQLite path. Every other path, `/key` included, returns 404, so a
real client never registers: the harness must report FAIL at "node A registration" (or at
"tailscale up" for tailscaled-pair.sh) and leave no process behind.

    HEADSCALE_BIN=Tests/e2e/fake-headscale.py E2E_TIMEOUT=15 Tests/e2e/two-nodes.sh
"""

import http.server
import json
import os
import signal
import socket
import ssl
import sys


def read_config(path):
    """Returns the few scalar keys the fake needs, from Headscale's YAML layout (no YAML parser)."""
    values, parents = {}, []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            indent = len(line) - len(line.lstrip())
            key, _, value = line.strip().partition(":")
            parents = [p for p in parents if p[0] < indent]
            dotted = ".".join([p[1] for p in parents] + [key])
            value = value.strip().strip('"')
            if value:
                values[dotted] = value
            else:
                parents.append((indent, key))
    return values


def state_path(config):
    return config["database.sqlite.path"] + ".fake.json"


def load_state(config):
    try:
        with open(state_path(config), encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return {"users": [], "keys": []}


def save_state(config, state):
    with open(state_path(config), "w", encoding="utf-8") as handle:
        json.dump(state, handle)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            body = b'{"status":"pass"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    def do_POST(self):
        self.send_error(404)

    def log_message(self, format, *args):
        print("fake-headscale: " + format % args, file=sys.stderr, flush=True)


def serve(config):
    host, _, port = config["listen_addr"].rpartition(":")
    server = http.server.ThreadingHTTPServer((host, int(port)), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(config["tls_cert_path"], config["tls_key_path"])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    sock_path = config["unix_socket"]
    if os.path.exists(sock_path):
        os.unlink(sock_path)
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(sock_path)
    unix.listen()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"fake-headscale: serving https://{host}:{port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        os.unlink(sock_path)


def cli(config, args):
    state = load_state(config)
    if args[:2] == ["users", "create"]:
        state["users"].append({"id": len(state["users"]) + 1, "name": args[2]})
        save_state(config, state)
        print("User created")
    elif args[:2] == ["users", "list"]:
        print(json.dumps(state["users"]))
    elif args[:2] == ["preauthkeys", "create"]:
        key = "hskey-auth-fakefakefake-" + "0" * 64
        state["keys"].append(key)
        save_state(config, state)
        print(json.dumps({"key": key, "reusable": True}))
    elif args[:2] == ["nodes", "list"]:
        print("[]")
    else:
        sys.exit(f"fake-headscale: unsupported command {args}")


def main(argv):
    if len(argv) < 4 or argv[1] != "-c":
        sys.exit("usage: fake-headscale.py -c CONFIG COMMAND...")
    config = read_config(argv[2])
    if argv[3:] == ["serve"]:
        serve(config)
    else:
        cli(config, argv[3:])


if __name__ == "__main__":
    main(sys.argv)
