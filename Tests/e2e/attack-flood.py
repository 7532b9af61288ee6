#!/usr/bin/env python3
"""Hold many idle or garbage TCP connections open against one listener on loopback.

Usage: attack-flood.py PORT COUNT STATUS_FILE [SOURCES]

Opens COUNT connections to 127.0.0.1:PORT, spread round-robin over SOURCES source addresses
(default 200) taken from 127.1.0.0/16, so that per-source caps apply as they would to many
real clients. Every fourth connection sends a line of garbage; the rest stay silent. A connection
the server closes is opened again (at most 100 per half second), so the pressure lasts until the process gets SIGTERM. Once all
COUNT connections have been tried, and again every 2 s, STATUS_FILE gets one line:
"open=N reopened=M failed=K".

It aims only at 127.0.0.1, and the end-to-end tests run it inside their own network namespace.
"""

import errno
import resource
import selectors
import signal
import socket
import sys
import time

GARBAGE = b"\x16\x03\x01\xff\xff garbage that is neither TLS nor HTTP\r\n"


def raise_file_limit(count):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + 256
    if hard != resource.RLIM_INFINITY and hard < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
    elif soft == resource.RLIM_INFINITY or soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def source_address(index, sources):
    number = index % sources
    return "127.1.%d.%d" % (number // 250, number % 250 + 1)


class Flood:
    def __init__(self, port, count, sources):
        self.port = port
        self.count = count
        self.sources = sources
        self.selector = selectors.DefaultSelector()
        self.open = 0
        self.reopened = 0
        self.failed = 0
        self.closed = []

    def connect(self, index):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((source_address(index, self.sources), 0))
            sock.setblocking(False)
            code = sock.connect_ex(("127.0.0.1", self.port))
            if code not in (0, errno.EINPROGRESS):
                raise OSError(code, errno.errorcode.get(code, str(code)))
        except OSError:
            sock.close()
            self.failed += 1
            return
        self.selector.register(sock, selectors.EVENT_WRITE, index)
        self.open += 1

    def on_event(self, key, events):
        sock, index = key.fileobj, key.data
        if events & selectors.EVENT_WRITE:
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code == 0:
                if index % 4 == 0:
                    try:
                        sock.send(GARBAGE)
                    except OSError:
                        pass
                self.selector.modify(sock, selectors.EVENT_READ, index)
                return
        else:
            try:
                if sock.recv(4096):
                    return
            except BlockingIOError:
                return
            except OSError:
                pass
        # Closed or failed: a replacement from the same source opens soon, paced by poll().
        self.selector.unregister(sock)
        sock.close()
        self.open -= 1
        self.closed.append(index)

    def write_status(self, path):
        with open(path, "w") as status:
            status.write("open=%d reopened=%d failed=%d\n" % (self.open, self.reopened, self.failed))

    def run(self, status_path):
        for index in range(self.count):
            self.connect(index)
            if index % 500 == 499:
                self.poll(0)
        self.write_status(status_path)
        last = time.monotonic()
        while True:
            self.poll(0.5)
            if time.monotonic() - last >= 2:
                self.write_status(status_path)
                last = time.monotonic()

    def poll(self, timeout):
        for key, events in self.selector.select(timeout):
            self.on_event(key, events)
        # At most 100 reopens per poll, so the churn stays a flood and not a busy loop.
        batch, self.closed = self.closed[:100], self.closed[100:]
        for index in batch:
            self.reopened += 1
            self.connect(index)


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit("usage: attack-flood.py PORT COUNT STATUS_FILE [SOURCES]")
    port, count, status_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    sources = int(sys.argv[4]) if len(sys.argv) == 5 else 200
    raise_file_limit(count)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    Flood(port, count, sources).run(status_path)


if __name__ == "__main__":
    main()
