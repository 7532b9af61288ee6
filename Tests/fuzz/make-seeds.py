#!/usr/bin/env python3
"""Writes the seed corpora under Tests/fuzz/corpus/. Run it again after changing a target's input layout."""
import json
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as handle:
        handle.write(data)


def http_request_seeds():
    requests = {
        "get": b"GET /key?v=130 HTTP/1.1\r\nHost: hs\r\n\r\n",
        "post-length": b"POST /api/v1/user HTTP/1.1\r\nHost: hs\r\nContent-Length: 11\r\n\r\n{\"name\":1}\n",
        "chunked": b"POST /x HTTP/1.1\r\nHost: hs\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: v\r\n\r\n",
        "upgrade": b"POST /ts2021 HTTP/1.1\r\nHost: hs\r\nUpgrade: tailscale-control-protocol\r\n"
        b"Connection: upgrade\r\nX-Tailscale-Handshake: AAEC\r\n\r\n",
        "pipelined": b"GET /a HTTP/1.1\r\nHost: hs\r\n\r\nGET /b%20c?d=e HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "continue": b"PUT /y HTTP/1.1\r\nHost: hs\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    }
    for name, request in requests.items():
        write("HTTPRequest", name, bytes([7]) + request)


def noise_seeds():
    header = struct.pack(">HBH", 130, 1, 96)
    write("NoiseHandshake", "raw-initiation", b"\x00" + header + bytes(range(96)))
    write("NoiseHandshake", "valid-130", bytes([130]) + bytes([9] * 32))
    write("NoiseHandshake", "valid-masked", bytes([1]) + bytes([3] * 32) + bytes(5) + b"\x01")
    write("NoiseRecord", "messages", b"\x01\x07hello\xffworld\xff\xff" + b"x" * 300)
    write("NoiseRecord", "raw-record", b"\x00\x05" + b"\x04\x00\x12" + bytes(18))


def http2_seeds():
    import h2.config
    import h2.connection

    connection = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    connection.initiate_connection()
    headers = [(":method", "POST"), (":path", "/machine/map"), (":scheme", "https"), (":authority", "hs")]
    connection.send_headers(1, headers)
    connection.send_data(1, b'{"Version":130}', end_stream=True)
    connection.send_headers(3, [(":method", "GET"), (":path", "/"), (":scheme", "https"), (":authority", "hs")],
                            end_stream=True)
    connection.ping(b"12345678")
    connection.reset_stream(3)
    write("HTTP2", "two-streams", b"\x00\x09" + connection.data_to_send())


def derp_seeds():
    def frame(kind, payload):
        return struct.pack(">BI", kind, len(payload)) + payload

    frames = (
        frame(0x02, bytes(range(32)) + bytes(24) + b"x" * 40)
        + frame(0x04, bytes([1] * 32) + b"packet")
        + frame(0x06, b"")
        + frame(0x07, b"\x01")
        + frame(0x12, b"12345678")
        + frame(0x0A, bytes([2] * 64) + b"fwd")
        + frame(0x10, b"")
        + frame(0x11, bytes([3] * 32))
    )
    write("DERPFrame", "frames", bytes([11]) + frames)


def stun_seeds():
    software = b"tailnode"
    attributes = struct.pack(">HH", 0x8022, len(software)) + software
    body_length = len(attributes) + 8
    header = struct.pack(">HHI", 0x0001, body_length, 0x2112A442) + bytes(range(12))
    message = header + attributes
    # The CRC covers the message with the length already counting the fingerprint attribute.
    fingerprint = (zlib.crc32(message) ^ 0x5354554E) & 0xFFFFFFFF
    write("STUN", "binding-request", message + struct.pack(">HHI", 0x8028, 4, fingerprint))
    write("STUN", "bare", struct.pack(">HHI", 0x0001, 0, 0x2112A442) + bytes(12))


def config_seeds():
    example = os.path.join(os.path.dirname(ROOT), "..", "..", "config", "config-example.yaml")
    with open(example, "rb") as handle:
        write("Config", "example", handle.read())
    write("Config", "small", b"server_url: https://hs.example.com\nlisten_addr: 127.0.0.1:8080\n"
          b"prefixes:\n  v4: 100.64.0.0/10\n  v6: fd7a:115c:a1e0::/48\n"
          b"dns:\n  magic_dns: true\n  base_domain: ts.net\n  nameservers:\n    global: [1.1.1.1]\n"
          b"log:\n  level: debug\nephemeral_node_inactivity_timeout: 30m\n")


def control_seeds():
    node = "nodekey:" + "ab" * 32
    register = {
        "Version": 130, "NodeKey": node, "OldNodeKey": "nodekey:" + "00" * 32,
        "Auth": {"AuthKey": "hskey-auth-abc"}, "Expiry": "2030-01-02T03:04:05Z", "Followup": "",
        "Hostinfo": {"Hostname": "laptop", "OS": "linux", "RoutableIPs": ["10.0.0.0/24"]}, "Ephemeral": False,
    }
    write("RegisterRequest", "preauth", json.dumps(register).encode())
    write("RegisterRequest", "followup", json.dumps({"NodeKey": node, "Followup": "https://hs/register/x"}).encode())
    mapping = {
        "Version": 130, "Compress": "zstd", "KeepAlive": True, "NodeKey": node,
        "DiscoKey": "discokey:" + "cd" * 32, "Stream": True, "OmitPeers": False,
        "Hostinfo": {"Hostname": "laptop", "Services": [{"Proto": "tcp", "Port": 22}]},
        "Endpoints": ["192.0.2.1:41641", "[2001:db8::1]:41641"],
    }
    write("MapRequest", "stream", json.dumps(mapping).encode())
    write("MapRequest", "lite", json.dumps({"Version": 106, "NodeKey": node, "OmitPeers": True}).encode())


def policy_seeds():
    write("Policy", "hujson", b"""// a tailnet policy
{
  "groups": {"group:admin": ["alice@", /* inline */ "bob@",],},
  "tagOwners": {"tag:server": ["group:admin"],},
  "acls": [
    {"action": "accept", "src": ["group:admin"], "dst": ["tag:server:22", "*:443",],},
  ],
  "ssh": [{"action": "check", "src": ["autogroup:member"], "dst": ["autogroup:self"], "users": ["root"]}],
}
""")
    write("Policy", "full", b"""{
  "groups": {"group:eng": ["alice@example.com", "bob@"]},
  "hosts": {"office": "10.0.0.0/24", "db": "100.64.0.3"},
  "tagOwners": {"tag:server": ["group:eng"], "tag:exit": ["autogroup:admin"]},
  "autoApprovers": {"routes": {"10.0.0.0/24": ["tag:server"]}, "exitNode": ["tag:exit"]},
  "acls": [
    {"action": "accept", "src": ["alice@example.com"], "dst": ["office:*", "db:5432"], "proto": "tcp"},
    {"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self:*"]},
    {"action": "accept", "src": ["*"], "dst": ["autogroup:internet:*"]},
  ],
  "ssh": [{"action": "accept", "src": ["group:eng"], "dst": ["tag:server"], "users": ["autogroup:nonroot"]}],
  "tests": [{"src": "alice@example.com", "accept": ["db:5432"], "deny": ["100.64.0.2:22"]}],
}
""")
    write("Policy", "escapes", b'{"hosts": {"a\\"b": "100.64.0.1", "u": "\\u00e9"}, // end\n}')


http_request_seeds()
noise_seeds()
http2_seeds()
derp_seeds()
stun_seeds()
config_seeds()
control_seeds()
policy_seeds()
