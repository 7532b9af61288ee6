#!/usr/bin/env python3
"""Usage: control-front.py LISTEN_PORT TLS_PORT

A plain-TCP front door on 127.0.0.1:LISTEN_PORT that relays every connection to the TLS listener
on 127.0.0.1:TLS_PORT, byte for byte. The pinned-certificate test points the clients' control URL
here, so control traffic needs no certificate the clients trust (Noise encrypts it anyway), while
their DERP connections go to the TLS port and verify the server only by the pinned hash.

It does not verify the server's certificate: it only ever connects to the test's own server on
loopback. Runs until killed.
"""
import socket
import ssl
import sys
import threading


def pipe(source, target):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client, tls_port):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        upstream = context.wrap_socket(socket.create_connection(("127.0.0.1", tls_port), timeout=10))
        upstream.settimeout(None)
    except OSError as error:
        print(f"control-front: connecting to 127.0.0.1:{tls_port} failed: {error}", flush=True)
        client.close()
        return
    threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
    pipe(upstream, client)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: control-front.py LISTEN_PORT TLS_PORT")
    listen_port, tls_port = int(sys.argv[1]), int(sys.argv[2])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", listen_port))
    listener.listen(64)
    print(f"control-front: 127.0.0.1:{listen_port} -> TLS 127.0.0.1:{tls_port}", flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, tls_port), daemon=True).start()


if __name__ == "__main__":
    main()
