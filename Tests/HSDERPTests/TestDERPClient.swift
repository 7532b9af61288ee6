import Foundation
import HSCore
import HSCrypto
import HSDERP
import HSPosix
import Testing

/// A minimal DERP client for tests, on the client end of a ``MemoryStream`` pair.
///
/// It seals and opens the handshake boxes with ``NaClBox`` directly and builds ClientInfo JSON by
/// hand, so the server's handshake code is checked against an independent implementation.
final class TestDERPClient: ByteStreamHandler, @unchecked Sendable {
    enum Event: Sendable, Equatable {
        case frame(DERPFrame)
        case closed
    }

    let privateKey: [UInt8]
    let key: NodePublicKey
    let stream: MemoryStream
    /// The server's end of the pair: pause it to make this client a slow reader.
    let serverEnd: MemoryStream
    let events = EventBuffer<Event>()
    // Confined to `stream.queue`.
    private var reader = DERPFrameReader()

    init(streams: (client: MemoryStream, server: MemoryStream), privateKey: [UInt8]) {
        self.privateKey = privateKey
        self.key = NodePublicKey(bytes: NaClBox.publicKey(forPrivateKey: privateKey))!
        self.stream = streams.client
        self.serverEnd = streams.server
        stream.queue.sync { stream.setHandler(self) }
    }

    func stream(_ stream: any ByteStream, didRead bytes: [UInt8]) {
        reader.feed(bytes)
        while let frame = try? reader.nextFrame() {
            events.push(.frame(frame))
        }
    }

    func streamDidClose(_ stream: any ByteStream) {
        events.push(.closed)
    }

    func send(_ frame: DERPFrame) {
        sendRaw(frame.encoded())
    }

    func sendRaw(_ bytes: [UInt8]) {
        stream.queue.async { self.stream.write(bytes) }
    }

    func disconnect() {
        stream.queue.async { self.stream.close() }
    }

    func nextEvent(timeout: Duration = .seconds(30)) async -> Event? {
        await events.next(timeout: timeout)
    }

    /// Waits for the next frame and fails the test on a close or a timeout.
    func nextFrame(timeout: Duration = .seconds(30)) async throws -> DERPFrame {
        let event = try #require(await nextEvent(timeout: timeout), "no frame within \(timeout)")
        guard case .frame(let frame) = event else {
            Issue.record("connection closed while a frame was expected")
            throw CancellationError()
        }
        return frame
    }

    /// Reads ServerKey and returns the server key it carries.
    func readServerKey() async throws -> NodePublicKey {
        let frame = try await nextFrame()
        #expect(frame.type == .serverKey)
        #expect(frame.payload.count == 40)
        #expect(Array(frame.payload.prefix(8)) == Array("DERP🔑".utf8))
        return try #require(NodePublicKey(bytes: Array(frame.payload.dropFirst(8))))
    }

    /// Sends ClientInfo sealed to `serverKey`.
    func sendClientInfo(serverKey: NodePublicKey, json: String = #"{"version":2,"CanAckPings":true}"#) throws {
        let nonce = NaClBox.randomBytes(24)
        let box = try NaClBox.seal(
            Array(json.utf8),
            nonce: nonce,
            recipientPublicKey: serverKey.bytes,
            senderPrivateKey: privateKey
        )
        send(DERPFrame(type: .clientInfo, payload: key.bytes + nonce + box))
    }

    /// Reads ServerInfo, opens its box with this client's key and returns the decoded JSON object.
    func readServerInfo(serverKey: NodePublicKey) async throws -> [String: Any] {
        let frame = try await nextFrame()
        #expect(frame.type == .serverInfo)
        let nonce = Array(frame.payload.prefix(24))
        let box = Array(frame.payload.dropFirst(24))
        let json = try NaClBox.open(
            box,
            nonce: nonce,
            senderPublicKey: serverKey.bytes,
            recipientPrivateKey: privateKey
        )
        return try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
    }

    /// Runs the whole handshake and returns the server key.
    @discardableResult
    func handshake() async throws -> NodePublicKey {
        let serverKey = try await readServerKey()
        try sendClientInfo(serverKey: serverKey)
        let info = try await readServerInfo(serverKey: serverKey)
        #expect(info["version"] as? Int == 2)
        return serverKey
    }

    /// Waits for the next frame that is not a KeepAlive.
    func nextNonKeepAliveFrame() async throws -> DERPFrame {
        while true {
            let frame = try await nextFrame()
            if frame.type != .keepAlive { return frame }
        }
    }
}
