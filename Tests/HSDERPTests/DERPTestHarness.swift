import Dispatch
import HSCore
import HSCrypto
import HSHTTP
import HSPosix
import Synchronization

@testable import HSDERP

/// Stands in for the HTTP server: records the response or upgrade head, and on upgrade hands the
/// server end of a ``MemoryStream`` pair to the DERP server.
final class RecordingResponder: HTTPResponder, Sendable {
    let stream: MemoryStream?
    private let recorded = Mutex<[HTTPResponse]>([])

    init(stream: MemoryStream? = nil) {
        self.stream = stream
    }

    var responses: [HTTPResponse] { recorded.withLock { $0 } }

    func respond(_ response: HTTPResponse) {
        recorded.withLock { $0.append(response) }
    }

    func upgrade(_ head: HTTPResponse, then: @escaping @Sendable (any ByteStream, [UInt8]) -> Void) {
        recorded.withLock { $0.append(head) }
        guard let stream else { return }
        stream.queue.async { then(stream, []) }
    }
}

/// A DERP server plus helpers that connect test clients to it through `handleUpgrade`.
struct DERPTestHarness {
    let server: DERPServer
    let logger = Logger(label: "derp-test", minimumLevel: .critical)

    /// The server's default limits, except handshake, write-stall and read-pause timeouts long
    /// enough that a test client held up for seconds never looks slow to the server, and a
    /// KeepAlive interval long enough that no KeepAlive comes before the event a test waits for.
    /// Swift Testing runs the test clients on the cooperative thread pool, which other suites'
    /// synchronous tests can keep busy for longer than the default 10 s handshake timeout and, in
    /// a loaded full run, longer than the default 60 s KeepAlive interval.
    static var relaxedLimits: DERPServerLimits {
        var limits = DERPServerLimits()
        limits.handshakeTimeoutMilliseconds = 600_000
        limits.writeStallTimeoutMilliseconds = 600_000
        limits.readPauseLimitMilliseconds = 600_000
        limits.keepAliveIntervalMilliseconds = 600_000
        // A loaded machine can stretch a test past 10 s; tests that count log lines need one window.
        limits.offenderLogInterval = .seconds(3600)
        return limits
    }

    init(
        limits: DERPServerLimits = Self.relaxedLimits,
        admitClient: (@Sendable (NodePublicKey) -> Bool)? = nil,
        meshKey: [UInt8]? = nil
    ) {
        server = DERPServer(
            privateKey: NaClBox.makePrivateKey(),
            logger: Logger(label: "derp-test", minimumLevel: .critical),
            admitClient: admitClient,
            limits: limits,
            meshKey: meshKey
        )
    }

    static let upgradeRequest = HTTPRequest(
        method: "GET",
        target: "/derp",
        path: "/derp",
        headers: ["Upgrade": "DERP", "Connection": "Upgrade"]
    )

    /// Opens a stream to the server without any DERP traffic yet; returns the client and the
    /// responder that saw the 101.
    func open(name: String, privateKey: [UInt8] = NaClBox.makePrivateKey()) -> (TestDERPClient, RecordingResponder) {
        let streams = MemoryStream.makePair(name: name)
        let client = TestDERPClient(streams: streams, privateKey: privateKey)
        let responder = RecordingResponder(stream: streams.server)
        server.handleUpgrade(Self.upgradeRequest, responder: responder)
        return (client, responder)
    }

    /// Opens a stream and completes the handshake.
    func connect(name: String, privateKey: [UInt8] = NaClBox.makePrivateKey()) async throws -> TestDERPClient {
        let (client, _) = open(name: name, privateKey: privateKey)
        try await client.handshake()
        return client
    }
}
