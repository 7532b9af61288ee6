import CNGHTTP2
import HSHTTP2
import Testing

/// Records delegate callbacks and optionally responds to requests through `respond`.
final class RecordingDelegate: HTTP2ServerDelegate {
    var requests: [HTTP2Request] = []
    var closedStreams: [Int32] = []
    var respond: ((HTTP2ServerConnection, HTTP2Request) -> Void)?

    func connection(_ connection: HTTP2ServerConnection, didReceive request: HTTP2Request) {
        requests.append(request)
        respond?(connection, request)
    }

    func connection(_ connection: HTTP2ServerConnection, streamDidClose streamID: Int32) {
        closedStreams.append(streamID)
    }
}

/// Passes bytes between server and client until neither has anything left to send.
func exchange(_ server: HTTP2ServerConnection, _ client: TestClient, sourceLocation: SourceLocation = #_sourceLocation)
    throws
{
    for _ in 0..<10_000 {
        let toServer = client.takeOutput()
        if !toServer.isEmpty { try server.receive(toServer) }
        let toClient = server.takeOutput()
        if !toClient.isEmpty {
            let result = client.receive(toClient)
            #expect(result >= 0, "client rejected server output: \(result)", sourceLocation: sourceLocation)
        }
        if toServer.isEmpty && toClient.isEmpty { return }
    }
    Issue.record("exchange did not settle after 10000 rounds", sourceLocation: sourceLocation)
}

/// The settings Go's HTTP/2 client (Go 1.24+) sends, with the 1 GiB connection window increment it adds.
let goClientSettings: [(id: nghttp2_settings_id, value: UInt32)] = [
    (NGHTTP2_SETTINGS_ENABLE_PUSH, 0),
    (NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 4 << 20),
    (NGHTTP2_SETTINGS_MAX_FRAME_SIZE, 1 << 20),
    (NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 10 << 20),
]
let goClientConnectionWindow: Int32 = 1 << 30

/// A frame header parsed from raw server output: 24-bit length, type, flags, 31-bit stream identifier.
struct FrameHeader: Equatable {
    let length: Int
    let type: UInt8
    let flags: UInt8
    let streamID: UInt32
}

/// Splits raw HTTP/2 frames (no preface) into their headers.
func frameHeaders(in bytes: [UInt8]) -> [FrameHeader] {
    var headers: [FrameHeader] = []
    var offset = 0
    while offset + 9 <= bytes.count {
        let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
        let streamID = bytes[(offset + 5)..<(offset + 9)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } & 0x7fff_ffff
        headers.append(
            FrameHeader(length: length, type: bytes[offset + 3], flags: bytes[offset + 4], streamID: streamID)
        )
        offset += 9 + length
    }
    return headers
}

/// Deterministic bytes for bodies, so a reordering or loss changes the content.
func patternBytes(_ count: Int, seed: UInt8 = 7) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
}
