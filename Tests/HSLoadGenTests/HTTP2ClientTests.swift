import HSHTTP2
import HSLoadGen
import Testing

/// Answers each request with a streaming 200 and one DATA chunk that echoes the request body.
private final class EchoServer: HTTP2ServerDelegate {
    var requests: [HTTP2Request] = []

    func connection(_ connection: HTTP2ServerConnection, didReceive request: HTTP2Request) {
        requests.append(request)
        connection.startStreamingResponse(streamID: request.streamID, status: 200, headers: [])
        connection.sendData(streamID: request.streamID, request.body, endStream: false)
    }

    func connection(_ connection: HTTP2ServerConnection, streamDidClose streamID: Int32) {}
}

@Suite struct HTTP2ClientTests {
    /// Moves bytes both ways until neither side has output; returns the client's events.
    private func pump(_ client: HTTP2Client, _ server: HTTP2ServerConnection) throws -> [HTTP2ClientEvent] {
        var events: [HTTP2ClientEvent] = []
        for _ in 0..<10 {
            let toServer = client.takeOutput()
            if !toServer.isEmpty { try server.receive(toServer) }
            let toClient = server.takeOutput()
            if toServer.isEmpty && toClient.isEmpty { break }
            events += try client.receive(toClient)
        }
        return events
    }

    @Test func requestReachesServer() throws {
        let delegate = EchoServer()
        let server = try HTTP2ServerConnection(delegate: delegate)
        let client = try HTTP2Client()
        let body = Array("{\"Version\":130}".utf8)
        let streamID = try client.request(method: "POST", path: "/machine/map", authority: "127.0.0.1", body: body)
        let events = try pump(client, server)
        let request = try #require(delegate.requests.first)
        #expect(request.method == "POST")
        #expect(request.path == "/machine/map")
        #expect(request.body == body)
        #expect(events.contains(.response(streamID: streamID, status: 200)))
        #expect(events.contains(.data(streamID: streamID, bytes: body)))
    }

    @Test func serverResetEndsStream() throws {
        let delegate = EchoServer()
        let server = try HTTP2ServerConnection(delegate: delegate)
        let client = try HTTP2Client()
        let streamID = try client.request(method: "POST", path: "/machine/map", authority: "h", body: [1])
        _ = try pump(client, server)
        server.resetStream(streamID: streamID, errorCode: 8)
        let events = try pump(client, server)
        #expect(events.contains(.closed(streamID: streamID, errorCode: 8)))
    }

    @Test func malformedSettingsEndsSession() throws {
        let client = try HTTP2Client()
        // The preface goes out first, as on a real connection.
        #expect(!client.takeOutput().isEmpty)
        // A SETTINGS frame whose 5-byte payload is not a multiple of 6: FRAME_SIZE_ERROR (code 6).
        let frame: [UInt8] = [0, 0, 5, 4, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5]
        _ = try client.receive(frame)
        let output = client.takeOutput()
        #expect(output.count == 17)
        #expect(output[3] == 7)
        #expect(client.protocolError?.contains("error code 6") == true)
        #expect(throws: LoadGenError.self) {
            _ = try client.receive([0, 0, 0, 4, 1, 0, 0, 0, 0])
        }
    }
}
