import Foundation
import HSCore
import HSCrypto
import HSHTTP
import HSPosix
import Testing

@testable import HSControl
@testable import HSDERP

/// Two embedded relays meshed over real sockets: a packet from a client of one reaches a client of
/// the other, and a client that leaves one relay is forgotten by the other.
@Suite struct DERPMeshLinkTests {
    static let meshKey = [UInt8](repeating: 0x3C, count: 32)

    /// A relay behind an HTTP server on a 127.0.0.1 port.
    struct Relay {
        let privateKey = NaClBox.makePrivateKey()
        let derp: DERPServer
        let listener: TCPListener

        init() throws {
            let logger = Logger(label: "mesh-test", minimumLevel: .critical)
            derp = DERPServer(
                privateKey: privateKey,
                logger: logger,
                admitClient: nil,
                meshKey: DERPMeshLinkTests.meshKey
            )
            let http = HTTPServer(handler: Upgrade(derp: derp), logger: logger)
            listener = try TCPListener(host: "127.0.0.1", port: 0, logger: logger)
            listener.start { stream in http.serve(stream, isSecure: false) }
        }

        var url: String { "http://127.0.0.1:\(listener.localPort)" }

        func link(to other: Relay) -> DERPMeshLink {
            DERPMeshLink(
                url: other.url,
                relay: derp,
                privateKey: privateKey,
                meshKey: DERPMeshLinkTests.meshKey,
                logger: Logger(label: "mesh-test", minimumLevel: .critical),
                fetcher: HTTPFetcher(timeoutSeconds: 10)
            )
        }
    }

    struct Upgrade: HTTPHandler {
        let derp: DERPServer

        func handle(_ request: HTTPRequest, responder: any HTTPResponder) {
            derp.handleUpgrade(request, responder: responder)
        }
    }

    /// Polls `condition` on the calling thread for up to 30 s.
    static func waitFor(_ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(30)
        while !condition(), Date() < deadline {
            usleep(20_000)
        }
        return condition()
    }

    @Test func packetsCrossTheMesh() async throws {
        let (a, b) = (try Relay(), try Relay())
        let links = [a.link(to: b), b.link(to: a)]
        links.forEach { $0.start() }
        defer {
            links.forEach { $0.stop() }
            a.listener.stop()
            b.listener.stop()
        }
        let result = try await Self.onThread { () throws -> [String] in
            var problems: [String] = []
            let fetcher = HTTPFetcher(timeoutSeconds: 10)
            let (aliceKey, bobKey) = (NaClBox.makePrivateKey(), NaClBox.makePrivateKey())
            let alice = NodePublicKey(bytes: NaClBox.publicKey(forPrivateKey: aliceKey))!
            let bob = NodePublicKey(bytes: NaClBox.publicKey(forPrivateKey: bobKey))!
            var aliceConnection = try DERPClientConnection.open(
                url: a.url,
                privateKey: aliceKey,
                meshKey: nil,
                fetcher: fetcher
            )
            var bobConnection = try DERPClientConnection.open(
                url: b.url,
                privateKey: bobKey,
                meshKey: nil,
                fetcher: fetcher
            )
            defer { aliceConnection.close() }

            if !Self.waitFor({ a.derp.remoteForwarder(for: bob) != nil }) { problems.append("A never learned of bob") }
            try aliceConnection.send(.sendPacket(to: bob, [1, 2, 3]))
            let atBob = try Self.nextPacket(&bobConnection)
            if atBob != .recvPacket(from: alice, [1, 2, 3]) { problems.append("bob got \(atBob)") }

            if !Self.waitFor({ b.derp.remoteForwarder(for: alice) != nil }) {
                problems.append("B never learned of alice")
            }
            try bobConnection.send(.sendPacket(to: alice, [4, 5]))
            let atAlice = try Self.nextPacket(&aliceConnection)
            if atAlice != .recvPacket(from: bob, [4, 5]) { problems.append("alice got \(atAlice)") }

            bobConnection.close()
            if !Self.waitFor({ a.derp.remoteForwarder(for: bob) == nil }) {
                problems.append("A kept bob after he left")
            }
            return problems
        }
        #expect(result == [])
        #expect(a.derp.statistics.packetsForwardedOut == 1)
        #expect(b.derp.statistics.packetsForwardedIn == 1)
        #expect(a.derp.statistics.meshPeersAccepted == 1)
    }

    @Test func wrongMeshKeyLinkStaysDown() async throws {
        let (a, b) = (try Relay(), try Relay())
        let link = DERPMeshLink(
            url: b.url,
            relay: a.derp,
            privateKey: a.privateKey,
            meshKey: [UInt8](repeating: 0x3D, count: 32),
            logger: Logger(label: "mesh-test", minimumLevel: .critical),
            fetcher: HTTPFetcher(timeoutSeconds: 10)
        )
        link.start()
        defer {
            link.stop()
            a.listener.stop()
            b.listener.stop()
        }
        // The other relay treats the link as an ordinary client and closes it for WatchConns.
        let closed = try await Self.onThread { Self.waitFor { b.derp.statistics.protocolViolations >= 1 } }
        #expect(closed)
        #expect(b.derp.statistics.meshPeersAccepted == 0)
        // Once the link reads the close, it takes no packets until it reconnects.
        let rejects = try await Self.onThread { Self.waitFor { !link.forward(DERPFrame.watchConns.encoded()) } }
        #expect(rejects)
    }

    /// Reads until a RecvPacket arrives.
    static func nextPacket(_ connection: inout DERPClientConnection) throws -> DERPFrame {
        while true {
            let frame = try connection.nextFrame()
            if frame.type == .recvPacket { return frame }
        }
    }

    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}
