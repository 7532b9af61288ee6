import Dispatch
import HSCore
import HSCrypto
import HSHTTP
import HSPosix
import Synchronization

@testable import HSDERP

/// The server end of a ``MemoryStream`` pair under another remote address, so that one test can
/// play clients from several sources.
final class AddressedStream: ByteStream {
    let inner: MemoryStream
    let remoteAddress: String

    init(_ inner: MemoryStream, remoteAddress: String) {
        self.inner = inner
        self.remoteAddress = remoteAddress
    }

    var queue: DispatchQueue { inner.queue }
    var pendingWriteBytes: Int { inner.pendingWriteBytes }
    func setHandler(_ handler: any ByteStreamHandler) { inner.setHandler(handler) }
    func write(_ bytes: [UInt8]) { inner.write(bytes) }
    func setReadingPaused(_ paused: Bool) { inner.setReadingPaused(paused) }
    func close() { inner.close() }
}

/// A DERP server whose log lines are kept, with clients connected from chosen addresses.
struct AttackDERPFixture {
    let server: DERPServer
    private let sinkLines: LineSink

    init(limits: DERPServerLimits = DERPTestHarness.relaxedLimits) {
        let sink = LineSink()
        server = DERPServer(
            privateKey: NaClBox.makePrivateKey(),
            logger: Logger(label: "derp-attack", minimumLevel: .info, sink: sink),
            admitClient: nil,
            limits: limits
        )
        sinkLines = sink
    }

    /// Opens a stream from `source` (an IPv4 address) without any DERP traffic yet.
    func open(name: String, source: String) -> TestDERPClient {
        let streams = MemoryStream.makePair(name: name)
        let client = TestDERPClient(streams: streams, privateKey: NaClBox.makePrivateKey())
        let addressed = AddressedStream(streams.server, remoteAddress: source + ":40000")
        let responder = AddressedResponder(stream: addressed)
        server.handleUpgrade(DERPTestHarness.upgradeRequest, responder: responder)
        return client
    }

    /// Opens a stream from `source` and completes the handshake.
    func connect(name: String, source: String = "127.0.0.1") async throws -> TestDERPClient {
        let client = open(name: name, source: source)
        try await client.handshake()
        return client
    }

    /// Returns the warnings that name `source` with `kind=kind`.
    func offenderLines(kind: String, source: String) -> [String] {
        sinkLines.lines.withLock { lines in
            lines.filter {
                $0.contains("level=warning") && $0.contains("kind=\(kind)") && $0.contains("source=\(source) ")
            }
        }
    }
}

/// Keeps every log line.
final class LineSink: LogSink {
    let lines = Mutex<[String]>([])

    func write(level: LogLevel, line: String) {
        lines.withLock { $0.append(line) }
    }
}

/// Hands an ``AddressedStream`` to the DERP server on upgrade.
final class AddressedResponder: HTTPResponder, Sendable {
    let stream: AddressedStream

    init(stream: AddressedStream) {
        self.stream = stream
    }

    func respond(_ response: HTTPResponse) {}

    func upgrade(_ head: HTTPResponse, then: @escaping @Sendable (any ByteStream, [UInt8]) -> Void) {
        let stream = self.stream
        stream.queue.async { then(stream, []) }
    }
}

extension TestDERPClient {
    /// Waits for a packet from `source` with `payload`, skipping other frames; false on a close or
    /// after `timeout`.
    func receivesPacket(from source: NodePublicKey, _ payload: [UInt8], timeout: Duration = .seconds(30)) async -> Bool
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let event = await nextEvent(timeout: deadline - ContinuousClock.now) else { return false }
            guard case .frame(let frame) = event else { return false }
            if frame == DERPFrame.recvPacket(from: source, payload) { return true }
        }
        return false
    }

    /// Waits until the server closes this client; false after `timeout`.
    func isClosedByServer(timeout: Duration = .seconds(30)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let event = await nextEvent(timeout: deadline - ContinuousClock.now) else { return false }
            if event == .closed { return true }
        }
        return false
    }
}
