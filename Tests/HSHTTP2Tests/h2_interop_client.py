"""HTTP/2 client for the HSHTTP2 interop test, built on the independent `h2` library (PyPI).

It speaks HTTP/2 with prior knowledge over file descriptors 0 (read) and 1 (write), which the Swift test
connects to its server connection, and opens its connection the way Tailscale's Go client does. It runs
several concurrent requests, checks every response, prints one JSON line starting with RESULT to stderr,
and exits 0 when all checks passed.
"""

import json
import os
import sys

import h2.config
import h2.connection
import h2.events
import h2.settings

ECHO_BODY = bytes((i * 31 + 7) % 256 for i in range(100_000))
OVERSIZED_BODY = bytes(2 * 1024 * 1024)
STREAM_CHUNKS = [b"chunk-one\n", b"chunk-two\n", b"chunk-three\n"]


def main():
    config = h2.config.H2Configuration(client_side=True, header_encoding=None)
    conn = h2.connection.H2Connection(config=config)
    conn.local_settings = h2.settings.Settings(
        client=True,
        initial_values={
            h2.settings.SettingCodes.ENABLE_PUSH: 0,
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 4 * 1024 * 1024,
            h2.settings.SettingCodes.MAX_FRAME_SIZE: 1024 * 1024,
            h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: 10 * 1024 * 1024,
        },
    )
    conn.initiate_connection()
    conn.increment_flow_control_window(1024 * 1024 * 1024 - 65535)

    def request(method, path, body=None, extra=()):
        stream_id = conn.get_next_available_stream_id()
        headers = [
            (b":method", method),
            (b":scheme", b"https"),
            (b":authority", b"unused"),
            (b":path", path),
            (b"accept-encoding", b"gzip"),
            (b"user-agent", b"tailscale-interop-test/1.0 (a long value that Huffman coding shortens)"),
        ]
        headers += list(extra)
        conn.send_headers(stream_id, headers, end_stream=body is None)
        return stream_id

    streams = {}
    uploads = {}
    for name, method, path, body, extra in [
        ("echo", b"POST", b"/echo", ECHO_BODY, ()),
        ("hello1", b"GET", b"/hello", None, [(b"x-name", b"first")]),
        ("stream", b"POST", b"/stream", b"{}", ()),
        ("oversized", b"POST", b"/oversized", OVERSIZED_BODY, ()),
        ("hello2", b"GET", b"/hello", None, [(b"x-name", b"second")]),
    ]:
        stream_id = request(method, path, body, extra)
        streams[stream_id] = {"name": name, "status": None, "body": b"", "ended": False, "reset": None}
        if body is not None:
            uploads[stream_id] = bytearray(body)

    first_event = None
    while not all(s["ended"] or s["reset"] is not None for s in streams.values()):
        send_uploads(conn, uploads)
        os.write(1, conn.data_to_send())
        data = os.read(0, 65536)
        if not data:
            break
        for event in conn.receive_data(data):
            if first_event is None:
                first_event = type(event).__name__
            handle(conn, event, streams, uploads)
    conn.close_connection()
    os.write(1, conn.data_to_send())
    report(first_event, streams)


def send_uploads(conn, uploads):
    """Sends as much of each pending request body as the flow-control windows allow."""
    for stream_id in list(uploads):
        pending = uploads[stream_id]
        window = min(conn.local_flow_control_window(stream_id), conn.max_outbound_frame_size)
        while pending and window > 0:
            size = min(window, len(pending))
            conn.send_data(stream_id, bytes(pending[:size]))
            del pending[:size]
            window = min(conn.local_flow_control_window(stream_id), conn.max_outbound_frame_size)
        if not pending:
            conn.end_stream(stream_id)
            del uploads[stream_id]


def handle(conn, event, streams, uploads):
    if isinstance(event, h2.events.ResponseReceived):
        streams[event.stream_id]["status"] = int(dict(event.headers)[b":status"])
    elif isinstance(event, h2.events.DataReceived):
        streams[event.stream_id]["body"] += event.data
        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
    elif isinstance(event, h2.events.StreamEnded):
        streams[event.stream_id]["ended"] = True
    elif isinstance(event, h2.events.StreamReset):
        streams[event.stream_id]["reset"] = event.error_code
        uploads.pop(event.stream_id, None)


def report(first_event, streams):
    by_name = {s["name"]: s for s in streams.values()}
    checks = {
        "first frame is SETTINGS": first_event == "RemoteSettingsChanged",
        "echo status 200": by_name["echo"]["status"] == 200,
        "echo body matches": by_name["echo"]["body"] == ECHO_BODY,
        "hello1 body": by_name["hello1"]["body"] == b"hello first",
        "hello2 body": by_name["hello2"]["body"] == b"hello second",
        "stream chunks in order": by_name["stream"]["body"] == b"".join(STREAM_CHUNKS),
        "stream ended": by_name["stream"]["ended"],
        "oversized status 413": by_name["oversized"]["status"] == 413,
    }
    failed = [name for name, passed in checks.items() if not passed]
    summary = {
        "failed": failed,
        "streams": {s["name"]: {"status": s["status"], "bytes": len(s["body"]), "reset": s["reset"]}
                    for s in streams.values()},
    }
    print("RESULT " + json.dumps(summary), file=sys.stderr, flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
