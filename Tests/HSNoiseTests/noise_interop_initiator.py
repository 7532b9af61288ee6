#!/usr/bin/env python3
"""Tailscale control-protocol Noise initiator built on the PyPI `noiseprotocol` package.

NoiseInteropTests runs this script to check HSNoise's responder against an independent
Noise implementation. It talks over stdin and stdout, one line of hex per message:

1. It prints the 101-byte initiation (5-byte header included).
2. It reads one line: the 51-byte response, a space, then the server's first transport record.
3. It prints one JSON object with the handshake hash, the decrypted server plaintext and a
   client record (header included) that carries CLIENT_MESSAGE.

Only nonce 0 is used in each direction, because noiseprotocol encodes transport nonces as
little-endian counters and Tailscale as big-endian, and the two agree only at 0.

Usage: noise_interop_initiator.py SERVER_PUBLIC_KEY_HEX MACHINE_PRIVATE_KEY_HEX VERSION
Exit status 2 means noiseprotocol is not installed.
"""

import json
import sys

try:
    from noise.connection import Keypair, NoiseConnection
except ImportError:
    print("python module 'noise' missing: run 'pip install noiseprotocol'", file=sys.stderr)
    sys.exit(2)

CLIENT_MESSAGE = b"hello from the python initiator"


def read_frame(data: bytes, expected_type: int) -> bytes:
    """Check a 3-byte type-and-length header and return the payload after it."""
    if len(data) < 3 or data[0] != expected_type:
        raise SystemExit(f"frame type {data[:1].hex()} invalid, expected {expected_type:02x}")
    length = int.from_bytes(data[1:3], "big")
    if length != len(data) - 3:
        raise SystemExit(f"frame length {length} invalid, frame carries {len(data) - 3} bytes")
    return data[3:]


def main() -> None:
    server_public = bytes.fromhex(sys.argv[1])
    machine_private = bytes.fromhex(sys.argv[2])
    version = int(sys.argv[3])

    noise = NoiseConnection.from_name(b"Noise_IK_25519_ChaChaPoly_BLAKE2s")
    noise.set_as_initiator()
    noise.set_prologue(f"Tailscale Control Protocol v{version}".encode("ascii"))
    noise.set_keypair_from_private_bytes(Keypair.STATIC, machine_private)
    noise.set_keypair_from_public_bytes(Keypair.REMOTE_STATIC, server_public)
    noise.start_handshake()

    payload = noise.write_message()
    header = version.to_bytes(2, "big") + b"\x01" + len(payload).to_bytes(2, "big")
    print((header + payload).hex(), flush=True)

    response_hex, record_hex = sys.stdin.readline().split()
    noise.read_message(read_frame(bytes.fromhex(response_hex), 0x02))
    if not noise.handshake_finished:
        raise SystemExit("handshake not finished after the response")

    server_plaintext = noise.decrypt(read_frame(bytes.fromhex(record_hex), 0x04))
    client_ciphertext = noise.encrypt(CLIENT_MESSAGE)
    client_record = b"\x04" + len(client_ciphertext).to_bytes(2, "big") + client_ciphertext
    result = {
        "handshake_hash": noise.get_handshake_hash().hex(),
        "server_plaintext": server_plaintext.hex(),
        "client_record": client_record.hex(),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
