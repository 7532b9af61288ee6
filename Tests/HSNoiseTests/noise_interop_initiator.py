#!/usr/bin/env python3
"""Tailscale control-protocol Noise initiator built on the PyPI `noiseprotocol` package.

NoiseInteropTests runs this script to check HSNoise's responder against an independent
Noise implementation. It talks over stdin and stdout, one line of hex per message:

1. It prints the 101-byte initiation (5-byte header included).
2. It reads one line: the 51-byte response and the server's first two transport records,
   separated by spaces.
3. It prints one JSON object with the handshake hash, the two decrypted server plaintexts and
   two client records (headers included) that carry CLIENT_MESSAGES.

noiseprotocol encodes transport nonces as little-endian counters and Tailscale as big-endian,
and the two agree only at 0. So noiseprotocol handles the records with nonce 0, and records
with nonce 1 use the split keys directly with Tailscale's nonce layout.

Usage: noise_interop_initiator.py SERVER_PUBLIC_KEY_HEX MACHINE_PRIVATE_KEY_HEX VERSION
Exit status 2 means noiseprotocol is not installed.
"""

import json
import sys

try:
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
    from noise.connection import Keypair, NoiseConnection
except ImportError:
    print("python module 'noise' missing: run 'pip install noiseprotocol'", file=sys.stderr)
    sys.exit(2)

CLIENT_MESSAGES = [b"hello from the python initiator", b"second record from python"]


def read_frame(data: bytes, expected_type: int) -> bytes:
    """Check a 3-byte type-and-length header and return the payload after it."""
    if len(data) < 3 or data[0] != expected_type:
        raise SystemExit(f"frame type {data[:1].hex()} invalid, expected {expected_type:02x}")
    length = int.from_bytes(data[1:3], "big")
    if length != len(data) - 3:
        raise SystemExit(f"frame length {length} invalid, frame carries {len(data) - 3} bytes")
    return data[3:]


def tailscale_nonce(counter: int) -> bytes:
    """Return Tailscale's nonce: four zero bytes, then the counter as a big-endian u64."""
    return bytes(4) + counter.to_bytes(8, "big")


def record(ciphertext: bytes) -> bytes:
    return b"\x04" + len(ciphertext).to_bytes(2, "big") + ciphertext


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

    response_hex, first_hex, second_hex = sys.stdin.readline().split()
    noise.read_message(read_frame(bytes.fromhex(response_hex), 0x02))
    if not noise.handshake_finished:
        raise SystemExit("handshake not finished after the response")

    protocol = noise.noise_protocol
    send_cipher = ChaCha20Poly1305(bytes(protocol.cipher_state_encrypt.k))
    receive_cipher = ChaCha20Poly1305(bytes(protocol.cipher_state_decrypt.k))
    server_plaintexts = [
        noise.decrypt(read_frame(bytes.fromhex(first_hex), 0x04)),
        receive_cipher.decrypt(tailscale_nonce(1), read_frame(bytes.fromhex(second_hex), 0x04), b""),
    ]
    client_records = [
        record(noise.encrypt(CLIENT_MESSAGES[0])),
        record(send_cipher.encrypt(tailscale_nonce(1), CLIENT_MESSAGES[1], b"")),
    ]
    result = {
        "handshake_hash": noise.get_handshake_hash().hex(),
        "server_plaintexts": [plaintext.hex() for plaintext in server_plaintexts],
        "client_records": "".join(client.hex() for client in client_records),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
