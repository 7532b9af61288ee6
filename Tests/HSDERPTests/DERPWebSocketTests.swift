import HSCore
import HSCrypto
import HSHTTP
import Testing

@testable import HSDERP

@Suite struct DERPWebSocketTests {
    let harness = DERPTestHarness()

    static func request(protocols: String? = "derp", key: String = "dGhlIHNhbXBsZSBub25jZQ==") -> HTTPRequest {
        var headers: HTTPHeaders = ["Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13"]
        headers.set("Sec-WebSocket-Key", key)
        if let protocols { headers.set("Sec-WebSocket-Protocol", protocols) }
        return HTTPRequest(method: "GET", target: "/derp", path: "/derp", headers: headers)
    }

    /// Connects a test client through a WebSocket bridge and returns both.
    func connect(name: String) -> (TestDERPClient, WebSocketBridge, RecordingResponder) {
        let clientPair = MemoryStream.makePair(name: name + ".client")
        let serverPair = MemoryStream.makePair(name: name + ".server")
        let client = TestDERPClient(streams: clientPair, privateKey: NaClBox.makePrivateKey())
        let bridge = WebSocketBridge(clientFacing: clientPair.server, serverFacing: serverPair.client)
        let responder = RecordingResponder(stream: serverPair.server)
        harness.server.handleUpgrade(Self.request(), responder: responder)
        return (client, bridge, responder)
    }

    @Test func acceptKeyMatchesRFCExample() {
        #expect(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func sha1MatchesKnownDigests() {
        #expect(Hex.encode(SHA1.hash([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(Hex.encode(SHA1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(Hex.encode(SHA1.hash(long)) == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
    }

    @Test func upgradeSendsAcceptAndSubprotocol() async throws {
        let (client, _, responder) = connect(name: "ws-head")
        _ = try await client.readServerKey()
        let head = try #require(responder.responses.first)
        #expect(head.status == 101)
        #expect(head.headers["Upgrade"] == "websocket")
        #expect(head.headers["Sec-WebSocket-Accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(head.headers["Sec-WebSocket-Protocol"] == "derp")
    }

    @Test func missingSubprotocolGetsPlainDERP() {
        let responder = RecordingResponder()
        harness.server.handleUpgrade(Self.request(protocols: nil), responder: responder)
        #expect(responder.responses.first?.status == 101)
        #expect(responder.responses.first?.headers["Upgrade"] == "DERP")
    }

    @Test func directWebSocketCallNeedsSubprotocol() {
        let responder = RecordingResponder()
        harness.server.handleWebSocketUpgrade(Self.request(protocols: "chat"), responder: responder)
        #expect(responder.responses.first?.status == 426)
    }

    @Test func invalidKeyIsRejected() {
        let responder = RecordingResponder()
        harness.server.handleUpgrade(Self.request(key: "short"), responder: responder)
        #expect(responder.responses.first?.status == 400)
    }

    @Test func packetsRelayBetweenWebSocketClients() async throws {
        let (alice, _, _) = connect(name: "ws-alice")
        let (bob, _, _) = connect(name: "ws-bob")
        try await alice.handshake()
        try await bob.handshake()
        alice.send(.sendPacket(to: bob.key, Array("hello over websocket".utf8)))
        let frame = try await bob.nextNonKeepAliveFrame()
        #expect(frame == .recvPacket(from: alice.key, Array("hello over websocket".utf8)))
    }

    @Test func pingFrameGetsPong() async throws {
        let (client, bridge, _) = connect(name: "ws-ping")
        _ = try await client.readServerKey()
        bridge.sendToServer(WebSocketBridge.maskedFrame(opcode: 0x9, payload: [1, 2, 3]))
        while let frame = await bridge.serverFrames.next() {
            if frame.opcode == 0xA {
                #expect(frame.payload == [1, 2, 3])
                return
            }
        }
        Issue.record("no Pong frame arrived")
    }

    @Test func unmaskedFrameClosesConnection() async throws {
        let (client, bridge, _) = connect(name: "ws-unmasked")
        _ = try await client.readServerKey()
        bridge.sendToServer([0x82, 0x01, 0x00])
        var sawClose = false
        while let frame = await bridge.serverFrames.next(timeout: .seconds(2)) {
            if frame.opcode == 0x8 {
                #expect(frame.payload == [0x03, 0xEA])
                sawClose = true
                break
            }
        }
        #expect(sawClose)
        #expect(await client.nextEvent() == .closed)
    }

    @Test func decoderRejectsOversizedFrame() {
        var decoder = WebSocketFrameDecoder(maxPayloadLength: 10)
        decoder.feed([0x82, 0x80 | 126, 0x00, 0x20, 0, 0, 0, 0])
        #expect(throws: DERPError.self) { try decoder.nextFrame() }
    }

    @Test func decoderReassemblesSplitFrame() throws {
        var decoder = WebSocketFrameDecoder(maxPayloadLength: 1 << 20)
        let payload = [UInt8](repeating: 7, count: 300)
        let bytes = WebSocketBridge.maskedFrame(opcode: 0x2, payload: payload)
        decoder.feed(Array(bytes.prefix(3)))
        #expect(try decoder.nextFrame() == nil)
        decoder.feed(Array(bytes.dropFirst(3)))
        let frame = try #require(try decoder.nextFrame())
        #expect(frame.opcode == .binary)
        #expect(frame.payload == payload)
    }
}
