import CNGHTTP2
import HSHTTP2
import Testing

@Suite struct HTTP2ServerConnectionTests {
    @Test func serverSettingsComeFirst() throws {
        let delegate = RecordingDelegate()
        let server = try HTTP2ServerConnection(delegate: delegate)
        let first = frameHeaders(in: server.takeOutput())
        let settings = try #require(first.first)
        #expect(settings.type == 4)
        #expect(settings.streamID == 0)
        #expect(settings.flags == 0)
        // MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE and MAX_HEADER_LIST_SIZE, 6 bytes each.
        #expect(settings.length == 18)
        #expect(first.dropFirst().allSatisfy { $0.type == 8 && $0.streamID == 0 })
    }

    @Test func goClientPrefaceAccepted() throws {
        let delegate = RecordingDelegate()
        let server = try HTTP2ServerConnection(delegate: delegate)
        var preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
        preface += [0, 0, 24, 4, 0, 0, 0, 0, 0]
        preface += [0, 2, 0, 0, 0, 0, 0, 4, 0, 0x40, 0, 0, 0, 5, 0, 0x10, 0, 0, 0, 6, 0, 0xa0, 0, 0]
        preface += [0, 0, 4, 8, 0, 0, 0, 0, 0, 0x40, 0, 0, 0]
        try server.receive(preface)
        let frames = frameHeaders(in: server.takeOutput())
        #expect(frames.first?.type == 4)
        #expect(frames.first?.flags == 0)
        #expect(frames.contains { $0.type == 4 && $0.flags == 1 })
        #expect(!server.wantsClose)
        #expect(server.connectionError == nil)
    }

    @Test func postBodyReachesDelegate() throws {
        let delegate = RecordingDelegate()
        delegate.respond = { connection, request in
            connection.sendResponse(
                streamID: request.streamID,
                status: 200,
                headers: [("Content-Type", "application/json")],
                body: Array("{}".utf8)
            )
        }
        let server = try HTTP2ServerConnection(delegate: delegate)
        let client = TestClient(settings: goClientSettings, connectionWindow: goClientConnectionWindow)
        let body = patternBytes(40_000)
        let streamID = client.request(
            method: "POST",
            path: "/machine/register",
            headers: [("ts-lb", "nodekey:ab")],
            body: body
        )
        try exchange(server, client)

        let request = try #require(delegate.requests.first)
        #expect(delegate.requests.count == 1)
        #expect(request.streamID == streamID)
        #expect(request.method == "POST")
        #expect(request.path == "/machine/register")
        #expect(request.authority == "example.test")
        #expect(request.scheme == "https")
        #expect(request.header("Ts-Lb") == "nodekey:ab")
        #expect(request.body == body)

        let response = try #require(client.streams[streamID])
        #expect(response.status == 200)
        #expect(response.body == Array("{}".utf8))
        #expect(response.headers.contains { $0 == ("content-type", "application/json") })
        #expect(response.headers.contains { $0 == ("content-length", "2") })
        #expect(response.isClosed)
        #expect(response.closeErrorCode == 0)
        #expect(delegate.closedStreams == [streamID])
    }

    @Test func concurrentStreamsInterleave() throws {
        let delegate = RecordingDelegate()
        let server = try HTTP2ServerConnection(delegate: delegate)
        let client = TestClient(settings: goClientSettings, connectionWindow: goClientConnectionWindow)
        var expected: [Int32: [UInt8]] = [:]
        for index in 0..<6 {
            let body = patternBytes(20_000 + index * 1_000, seed: UInt8(index))
            expected[client.request(method: "POST", path: "/echo/\(index)", body: body)] = body
        }
        try exchange(server, client)
        #expect(delegate.requests.count == 6)

        // Respond in reverse arrival order, so responses interleave differently from requests.
        for request in delegate.requests.reversed() {
            #expect(request.body == expected[request.streamID])
            server.sendResponse(streamID: request.streamID, status: 200, headers: [], body: request.body + request.body)
        }
        try exchange(server, client)
        for (streamID, body) in expected {
            let record = try #require(client.streams[streamID])
            #expect(record.status == 200)
            #expect(record.body == body + body, "stream \(streamID)")
            #expect(record.isClosed)
        }
        #expect(Set(delegate.closedStreams) == Set(expected.keys))
        #expect(delegate.closedStreams.count == 6)
    }

    @Test func streamingResponseStaysOpen() throws {
        let delegate = RecordingDelegate()
        let server = try HTTP2ServerConnection(delegate: delegate)
        let client = TestClient(settings: goClientSettings, connectionWindow: goClientConnectionWindow)
        let mapStream = client.request(method: "POST", path: "/machine/map", body: Array("{}".utf8))
        try exchange(server, client)
        server.startStreamingResponse(streamID: mapStream, status: 200, headers: [("content-type", "application/json")])
        try exchange(server, client)
        #expect(client.streams[mapStream]?.status == 200)
        #expect(client.streams[mapStream]?.isClosed == false)

        let chunks = [patternBytes(100, seed: 1), patternBytes(70_000, seed: 2), patternBytes(5, seed: 3)]
        server.sendData(streamID: mapStream, chunks[0], endStream: false)
        try exchange(server, client)
        #expect(client.streams[mapStream]?.body == chunks[0])

        delegate.respond = { connection, request in
            guard request.path == "/machine/set-dns" else { return }
            connection.sendResponse(streamID: request.streamID, status: 200, headers: [], body: [])
        }
        let shortStream = client.request(method: "POST", path: "/machine/set-dns", body: [1, 2, 3])
        try exchange(server, client)
        #expect(client.streams[shortStream]?.status == 200)
        #expect(client.streams[shortStream]?.isClosed == true)
        #expect(client.streams[mapStream]?.isClosed == false)
        #expect(delegate.closedStreams == [shortStream])

        server.sendData(streamID: mapStream, chunks[1], endStream: false)
        try exchange(server, client)
        #expect(client.streams[mapStream]?.body == chunks[0] + chunks[1])
        server.sendData(streamID: mapStream, chunks[2], endStream: true)
        try exchange(server, client)
        #expect(client.streams[mapStream]?.body == chunks[0] + chunks[1] + chunks[2])
        #expect(client.streams[mapStream]?.isClosed == true)
        #expect(delegate.closedStreams == [shortStream, mapStream])
        server.sendData(streamID: mapStream, [9], endStream: true)
        #expect(server.bufferedBytes(streamID: mapStream) == 0)
    }

    @Test func peerResetClosesStream() throws {
        let delegate = RecordingDelegate()
        let server = try HTTP2ServerConnection(delegate: delegate)
        let client = TestClient(settings: goClientSettings, connectionWindow: goClientConnectionWindow)
        let streamID = client.request(method: "POST", path: "/machine/map", body: [])
        try exchange(server, client)
        server.startStreamingResponse(streamID: streamID, status: 200, headers: [])
        server.sendData(streamID: streamID, [1, 2, 3], endStream: false)
        try exchange(server, client)
        #expect(client.streams[streamID]?.body == [1, 2, 3])

        client.reset(streamID: streamID)
        try exchange(server, client)
        #expect(delegate.closedStreams == [streamID])

        server.sendData(streamID: streamID, [4, 5, 6], endStream: false)
        server.sendResponse(streamID: streamID, status: 500, headers: [], body: [7])
        #expect(server.bufferedBytes(streamID: streamID) == 0)
        #expect(server.takeOutput().isEmpty)
        #expect(delegate.closedStreams == [streamID])
        #expect(server.connectionError == nil)
    }

    @Test func gracefulGoAwayFinishesStreams() throws {
        let delegate = RecordingDelegate()
        let server = try HTTP2ServerConnection(delegate: delegate)
        let client = TestClient(settings: goClientSettings, connectionWindow: goClientConnectionWindow)
        let streamID = client.request(method: "POST", path: "/machine/map", body: [])
        try exchange(server, client)
        server.startStreamingResponse(streamID: streamID, status: 200, headers: [])
        server.goAway(errorCode: 0)
        try exchange(server, client)
        #expect(client.receivedGoAwayErrorCode == 0)
        #expect(!server.wantsClose)

        server.sendData(streamID: streamID, [1], endStream: true)
        try exchange(server, client)
        #expect(client.streams[streamID]?.body == [1])
        #expect(client.streams[streamID]?.isClosed == true)
        #expect(server.wantsClose)
        #expect(server.connectionError == nil)
    }

    @Test func closeEndsOpenStreams() throws {
        let delegate = RecordingDelegate()
        let server = try HTTP2ServerConnection(delegate: delegate)
        let client = TestClient(settings: goClientSettings, connectionWindow: goClientConnectionWindow)
        let first = client.request(method: "POST", path: "/machine/map", body: [])
        let second = client.request(path: "/pending-response")
        try exchange(server, client)
        server.startStreamingResponse(streamID: first, status: 200, headers: [])
        server.sendData(streamID: first, patternBytes(10), endStream: false)
        #expect(delegate.closedStreams.isEmpty)

        server.close()
        #expect(delegate.closedStreams == [first, second])
        #expect(server.bufferedBytes(streamID: first) == 0)
        #expect(server.wantsClose)
        #expect(server.takeOutput().isEmpty)
        #expect(throws: HTTP2Error.self) { try server.receive(client.takeOutput()) }
        server.close()
        #expect(delegate.closedStreams == [first, second])
    }
}
