import CNGHTTP2
import HSHTTP2
import Testing

@Suite struct HTTP2LimitsTests {
    @Test func largeResponseWaitsForWindow() throws {
        let delegate = RecordingDelegate()
        let server = try HTTP2ServerConnection(delegate: delegate)
        // Stream windows stay at the RFC default of 65,535 bytes until the client consumes data.
        let client = TestClient(connectionWindow: goClientConnectionWindow)
        let streamID = client.request(path: "/large")
        try exchange(server, client)
        let body = patternBytes(3 << 20)
        server.sendResponse(streamID: streamID, status: 200, headers: [], body: body)
        try exchange(server, client)
        #expect(client.streams[streamID]?.body.count == 65_535)
        #expect(server.bufferedBytes(streamID: streamID) == body.count - 65_535)
        #expect(client.streams[streamID]?.isClosed == false)

        var previousBuffered = server.bufferedBytes(streamID: streamID)
        var rounds = 0
        while client.streams[streamID]?.isClosed == false, rounds < 1_000 {
            client.consume(streamID: streamID)
            try exchange(server, client)
            let buffered = server.bufferedBytes(streamID: streamID)
            #expect(buffered < previousBuffered || buffered == 0)
            previousBuffered = buffered
            rounds += 1
        }
        #expect(rounds > 10)
        #expect(client.streams[streamID]?.isClosed == true)
        #expect(client.streams[streamID]?.body == body)
        #expect(server.bufferedBytes(streamID: streamID) == 0)
        #expect(delegate.closedStreams == [streamID])
    }

    @Test func oversizedBodyGets413() throws {
        let delegate = RecordingDelegate()
        delegate.respond = { connection, request in
            connection.sendResponse(streamID: request.streamID, status: 200, headers: [], body: [])
        }
        let server = try HTTP2ServerConnection(settings: .init(maxRequestBodyBytes: 1_000), delegate: delegate)
        let client = TestClient(settings: goClientSettings, connectionWindow: goClientConnectionWindow)
        let tooLarge = client.request(method: "POST", path: "/machine/register", body: patternBytes(5_000))
        try exchange(server, client)
        #expect(client.streams[tooLarge]?.status == 413)
        #expect(client.streams[tooLarge]?.isClosed == true)
        #expect(delegate.requests.isEmpty)
        #expect(delegate.closedStreams.isEmpty)

        let atLimit = client.request(method: "POST", path: "/machine/register", body: patternBytes(1_000))
        try exchange(server, client)
        #expect(client.streams[atLimit]?.status == 200)
        #expect(delegate.requests.map(\.streamID) == [atLimit])
        #expect(delegate.requests.first?.body.count == 1_000)
    }

    @Test func oversizedUploadStopped() throws {
        let delegate = RecordingDelegate()
        let server = try HTTP2ServerConnection(settings: .init(maxRequestBodyBytes: 1_000), delegate: delegate)
        let client = TestClient(settings: goClientSettings, connectionWindow: goClientConnectionWindow)
        let streamID = client.request(method: "POST", path: "/machine/map", body: patternBytes(8 << 20))
        try exchange(server, client)
        #expect(client.streams[streamID]?.status == 413)
        #expect(client.streams[streamID]?.isClosed == true)
        #expect(client.streams[streamID]?.closeErrorCode == NGHTTP2_NO_ERROR.rawValue)
        // RST_STREAM (type 3) stopped the client from sending the rest of the 8 MiB.
        #expect(client.receivedFrameTypes.contains(3))
        #expect(delegate.requests.isEmpty)
        #expect(delegate.closedStreams.isEmpty)
        #expect(server.connectionError == nil)
    }

    @Test func declaredLengthOverLimitGets413() throws {
        let delegate = RecordingDelegate()
        let server = try HTTP2ServerConnection(settings: .init(maxRequestBodyBytes: 1_000), delegate: delegate)
        let client = TestClient(settings: goClientSettings, connectionWindow: goClientConnectionWindow)
        let streamID = client.request(
            method: "POST",
            path: "/machine/map",
            headers: [("content-length", "4000")],
            body: patternBytes(4_000)
        )
        try exchange(server, client)
        #expect(client.streams[streamID]?.status == 413)
        #expect(client.streams[streamID]?.isClosed == true)
        #expect(delegate.requests.isEmpty)
        #expect(server.connectionError == nil)
    }

    @Test func oversizedHeaderListResets() throws {
        let delegate = RecordingDelegate()
        delegate.respond = { connection, request in
            connection.sendResponse(streamID: request.streamID, status: 204, headers: [], body: [])
        }
        let server = try HTTP2ServerConnection(settings: .init(maxHeaderListSize: 1_024), delegate: delegate)
        let client = TestClient(settings: goClientSettings, connectionWindow: goClientConnectionWindow)
        let large = client.request(path: "/big", headers: [("x-filler", String(repeating: "a", count: 2_000))])
        try exchange(server, client)
        #expect(client.streams[large]?.isClosed == true)
        #expect(client.streams[large]?.status == nil)
        #expect(client.streams[large]?.closeErrorCode == NGHTTP2_INTERNAL_ERROR.rawValue)
        #expect(delegate.requests.isEmpty)

        // The HPACK state survived the rejection, so the next request on the connection still decodes.
        let small = client.request(path: "/small", headers: [("x-filler", "b")])
        try exchange(server, client)
        #expect(client.streams[small]?.status == 204)
        #expect(delegate.requests.map(\.path) == ["/small"])
    }

    @Test func excessStreamsRefused() throws {
        let delegate = RecordingDelegate()
        let server = try HTTP2ServerConnection(settings: .init(maxConcurrentStreams: 2), delegate: delegate)
        // nghttp2's client respects the server limit once it receives it, so open the streams before that.
        let client = TestClient(settings: goClientSettings, connectionWindow: goClientConnectionWindow)
        let ids = (0..<4).map { client.request(path: "/wait/\($0)") }
        try exchange(server, client)
        #expect(delegate.requests.count == 2)
        let refused = ids.filter { client.streams[$0]?.closeErrorCode == NGHTTP2_REFUSED_STREAM.rawValue }
        #expect(refused.count == 2)
        #expect(server.connectionError == nil)
    }

    @Test func invalidPrefaceFails() throws {
        let server = try HTTP2ServerConnection(delegate: RecordingDelegate())
        #expect(throws: HTTP2Error.self) {
            try server.receive(Array("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n".utf8))
        }
        #expect(server.wantsClose)
        #expect(server.connectionError != nil)
        #expect(throws: HTTP2Error.self) { try server.receive([0]) }
    }

    @Test func malformedFrameSendsGoAway() throws {
        let server = try HTTP2ServerConnection(delegate: RecordingDelegate())
        var input = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0]
        // A DATA frame on stream 0 is a connection error of type PROTOCOL_ERROR.
        input += [0, 0, 4, 0, 0, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef]
        let error = #expect(throws: HTTP2Error.self) { try server.receive(input) }
        #expect(error?.description.contains("PROTOCOL_ERROR") == true)
        let frames = frameHeaders(in: server.takeOutput())
        #expect(frames.last?.type == 7)
        #expect(server.wantsClose)
    }

    @Test func invalidSettingsRejected() {
        let delegate = RecordingDelegate()
        #expect(throws: HTTP2Error.self) {
            _ = try HTTP2ServerConnection(settings: .init(maxConcurrentStreams: 0), delegate: delegate)
        }
        #expect(throws: HTTP2Error.self) {
            _ = try HTTP2ServerConnection(settings: .init(initialWindowSize: 1 << 31), delegate: delegate)
        }
    }
}
