import Dispatch
import Foundation
import HSCore
import HSCrypto
import HSLoadGen
import HSNoise
import HSPosix
import Synchronization
import Testing

@testable import HSControl

/// One end of an in-memory byte stream pair, each end on its own serial queue.
///
/// A paused end keeps its writes unsent and counted in `pendingWriteBytes`, like a socket whose
/// peer stopped reading. State is confined to `queue`, hence `@unchecked Sendable`.
final class PipeEnd: ByteStream, @unchecked Sendable {
    let queue: DispatchQueue
    let remoteAddress = "127.0.0.1:1"
    private weak var peer: PipeEnd?
    private var handler: (any ByteStreamHandler)?
    private var unsentBytes = 0
    private var isPaused = false
    private var closed = false

    private init(label: String) {
        queue = DispatchQueue(label: label)
    }

    static func makePair() -> (client: PipeEnd, server: PipeEnd) {
        let client = PipeEnd(label: "pipe.client")
        let server = PipeEnd(label: "pipe.server")
        client.peer = server
        server.peer = client
        return (client, server)
    }

    func setHandler(_ handler: any ByteStreamHandler) { self.handler = handler }

    func write(_ bytes: [UInt8]) {
        guard !closed else { return }
        if isPaused {
            unsentBytes += bytes.count
            return
        }
        guard let peer else { return }
        peer.queue.async { peer.receive(bytes) }
    }

    var pendingWriteBytes: Int { unsentBytes }

    func close() {
        guard !closed else { return }
        closed = true
        unsentBytes = 0
        queue.async { self.handler?.streamDidClose(self) }
        if let peer { peer.queue.async { peer.remoteDidClose() } }
    }

    /// Holds every later write unsent, dropping it; callable from any queue.
    func pause() { queue.sync { isPaused = true } }

    var isClosed: Bool { queue.sync { closed } }

    private func receive(_ bytes: [UInt8]) {
        guard !closed else { return }
        handler?.stream(self, didRead: bytes)
    }

    private func remoteDidClose() {
        guard !closed else { return }
        closed = true
        handler?.streamDidClose(self)
    }
}

/// A control client over a ``PipeEnd``: Noise records around an HTTP/2 client session.
final class NoiseTestClient: ByteStreamHandler, @unchecked Sendable {
    let end: PipeEnd
    private var transport: NoiseTransport
    private let http2: HTTP2Client
    private let received = Mutex<(events: [HTTP2ClientEvent], data: [UInt8])>(([], []))

    init(end: PipeEnd, transport: NoiseTransport) throws {
        self.end = end
        self.transport = transport
        self.http2 = try HTTP2Client()
        end.queue.sync { end.setHandler(self) }
    }

    /// Sends a request and returns its stream id.
    func send(method: String, path: String, body: [UInt8]) throws -> Int32 {
        try end.queue.sync {
            let id = try http2.request(method: method, path: path, authority: "control", body: body)
            try flush()
            return id
        }
    }

    var events: [HTTP2ClientEvent] { received.withLock { $0.events } }

    /// The number of complete map messages received so far, on any stream.
    var mapMessageCount: Int {
        received.withLock { MapFraming.split($0.data)?.count ?? 0 }
    }

    func stream(_ stream: any ByteStream, didRead bytes: [UInt8]) {
        do {
            let plaintext = try transport.open(bytes)
            let events = try http2.receive(plaintext)
            received.withLock { state in
                state.events += events
                for case .data(_, let bytes) in events { state.data += bytes }
            }
            try flush()
        } catch {
            end.close()
        }
    }

    func streamDidClose(_ stream: any ByteStream) {}

    private func flush() throws {
        let output = http2.takeOutput()
        if !output.isEmpty { end.write(try transport.seal(output)) }
    }
}

/// A Noise session on an in-memory pipe, for the node of `client` in `fixture`'s plane.
struct NoiseSessionPair {
    let server: PipeEnd
    let client: NoiseTestClient
    let session: NoiseSession

    init(fixture: PlaneFixture, machineKey: MachinePublicKey, limits: NoiseLimits) throws {
        let serverKey = Curve25519PrivateKey()
        let serverPublic = try #require(MachinePublicKey(bytes: serverKey.publicKeyBytes))
        let initiator = try NoiseInitiator(
            machineKey: Curve25519PrivateKey(),
            serverPublicKey: serverPublic,
            protocolVersion: 130
        )
        let result = try NoiseHandshake.respond(to: initiator.initiation, serverKey: serverKey)
        let clientTransport = try initiator.complete(response: result.response)
        let (clientEnd, serverEnd) = PipeEnd.makePair()
        server = serverEnd
        client = try NoiseTestClient(end: clientEnd, transport: clientTransport)
        let logger = Logger(label: "test", minimumLevel: .critical)
        var router = NoiseRouter(plane: fixture.plane, logger: logger)
        router.limits = limits
        session = try NoiseSession(
            stream: serverEnd,
            transport: result.transport,
            // The plane authenticates by this key, so it is the fake client's, not the handshake's.
            machineKey: machineKey,
            protocolVersion: 130,
            router: router,
            logger: logger,
            offenders: RateLimitedLog(logger: logger)
        )
        let session = self.session
        serverEnd.queue.sync { session.start(earlyPayload: [], leftover: []) }
    }
}

extension FakeClient {
    /// The JSON body of a streaming map request.
    func streamingMapRequestBody() throws -> [UInt8] {
        let body: [String: Any] = [
            "Version": 130, "Compress": "zstd", "KeepAlive": true, "NodeKey": nodeKey.text,
            "DiscoKey": discoKey.text, "Stream": true, "Endpoints": ["127.0.0.1:41641"],
            "Hostinfo": ["Hostname": hostname],
        ]
        return Array(try JSONSerialization.data(withJSONObject: body))
    }
}
