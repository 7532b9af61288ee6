import Foundation
import HSCore
import HSCrypto
import HSHTTP
import HSPosix
import HSTestSupport
import Synchronization
import Testing

@testable import HSDERP

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking DERP client over plain TCP or WebSocket.
protocol BlockingDERPClient: AnyObject, Sendable {
    var key: NodePublicKey { get }
    func send(_ bytes: [UInt8]) throws
    func readFrame() throws -> DERPFrame
}

extension SocketDERPClient: BlockingDERPClient {}
extension WebSocketDERPClient: BlockingDERPClient {}

/// Rounds completed by client threads, shared with the test.
final class RoundCounter: Sendable {
    let value = Atomic<Int>(0)
}

/// Attacks on the relay path where poll loop threads read clients after the handshake: churn,
/// pauses, self-sends, WebSocket clients and shutdown, over real sockets on 127.0.0.1.
@Suite struct DERPPollLoopAttackTests {
    /// Bounces numbered packets of growing size between `first` and `second` and returns the
    /// number of rounds whose packet came back unchanged before the first mismatch.
    static func bounce(_ first: any BlockingDERPClient, _ second: any BlockingDERPClient, rounds: Int) throws -> Int {
        for round in 0..<rounds {
            let packet = PollLoopAttack.packet(round, tag: UInt8(round & 0x7F), length: 5 + (round * 997) % 60_000)
            try first.send(DERPFrame.sendPacket(to: second.key, packet).encoded())
            let atSecond = try second.readFrame()
            guard atSecond == .recvPacket(from: first.key, packet) else { return round }
            try second.send(DERPFrame.sendPacket(to: first.key, packet).encoded())
            guard try first.readFrame() == .recvPacket(from: second.key, packet) else { return round }
        }
        return rounds
    }

    /// Connects two clients, sends `count` packets each way, reads them and returns how many
    /// arrived in order at both ends.
    static func shortSession(port: UInt16, count: Int, tag: UInt8) throws -> Int {
        let alice = try SocketDERPClient(port: port)
        let bob = try SocketDERPClient(port: port)
        var batch: [UInt8] = []
        for index in 0..<count {
            batch += DERPFrame.sendPacket(to: bob.key, PollLoopAttack.packet(index, tag: tag)).encoded()
        }
        try alice.send(batch)
        batch = []
        for index in 0..<count {
            batch += DERPFrame.sendPacket(to: alice.key, PollLoopAttack.packet(index, tag: tag)).encoded()
        }
        try bob.send(batch)
        var inOrder = 0
        for index in 0..<count {
            let atBob = PollLoopAttack.numbered(try bob.readFrame())
            let atAlice = PollLoopAttack.numbered(try alice.readFrame())
            if atBob?.index == index, atAlice?.index == index { inOrder += 1 }
        }
        return inOrder
    }

    @Test func churnKeepsSteadyPairsInOrder() async throws {
        let relay = try PollLoopAttack.relay(pollThreads: 3)
        defer { relay.stop() }
        let port = relay.listener.localPort
        let rounds = 300
        let sessions = 12
        let (steady, churn) = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for _ in 0..<2 {
                group.addTask {
                    let rounds = try await onThread {
                        let alice = try SocketDERPClient(port: port)
                        let bob = try SocketDERPClient(port: port)
                        return try Self.bounce(alice, bob, rounds: rounds)
                    }
                    return (rounds, 0)
                }
            }
            for worker in 0..<4 {
                group.addTask {
                    let inOrder = try await onThread {
                        (0..<sessions).reduce(0) { sum, _ in
                            sum + ((try? Self.shortSession(port: port, count: 20, tag: UInt8(worker))) ?? 0)
                        }
                    }
                    return (0, inOrder)
                }
            }
            return try await group.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
        }
        #expect(steady == 2 * rounds)
        #expect(churn == 4 * sessions * 20)
        let loopEvents = relay.server.pollLoops?.loops.reduce(0) { $0 + $1.eventsHandled } ?? 0
        #expect(loopEvents >= 2 * 2 * rounds)
        #expect(try await pollUntil { relay.server.statistics.currentClients == 0 })
        #expect(try await pollUntil { PollLoopAttack.acceptedSocketCount(port: port) == 0 })
    }

    @Test func fanInKeepsPerSourceOrder() async throws {
        let relay = try PollLoopAttack.relayWithoutTimeouts(pollThreads: 4)
        defer { relay.stop() }
        let port = relay.listener.localPort
        let senderCount = 12
        let perSender = 300
        let receiver = try await onThread { try SocketDERPClient(port: port) }
        let senders = try await onThread { try (0..<senderCount).map { _ in try SocketDERPClient(port: port) } }
        let tags = Dictionary(uniqueKeysWithValues: senders.enumerated().map { ($0.element.key, UInt8($0.offset)) })
        async let sent: Void = withThrowingTaskGroup(of: Void.self) { group in
            for (offset, sender) in senders.enumerated() {
                group.addTask {
                    try await onThread {
                        for first in stride(from: 0, to: perSender, by: 50) {
                            var batch: [UInt8] = []
                            for index in first..<first + 50 {
                                let packet = PollLoopAttack.packet(index, tag: UInt8(offset), length: 700)
                                batch += DERPFrame.sendPacket(to: receiver.key, packet).encoded()
                            }
                            try sender.send(batch)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        // The next index expected from each sender, and how many packets broke that order or
        // carried a tag that does not match their source.
        let (next, misordered) = try await onThread {
            var next = [Int](repeating: 0, count: senderCount)
            var misordered = 0
            for _ in 0..<senderCount * perSender {
                let frame = try receiver.readFrame()
                let source = NodePublicKey(bytes: Array(frame.payload.prefix(32)))
                guard let numbered = PollLoopAttack.numbered(frame), let source, tags[source] == numbered.tag,
                    next[Int(numbered.tag)] == numbered.index
                else {
                    misordered += 1
                    continue
                }
                next[Int(numbered.tag)] += 1
            }
            return (next, misordered)
        }
        try await sent
        #expect(misordered == 0)
        #expect(next == [Int](repeating: perSender, count: senderCount))
        #expect(relay.server.statistics.packetsDroppedQueueFull == 0)
        withExtendedLifetime(senders) {}
    }

    @Test func selfSendBurstArrivesInOrder() async throws {
        let relay = try PollLoopAttack.relayWithoutTimeouts(pollThreads: 2)
        defer { relay.stop() }
        let port = relay.listener.localPort
        let client = try await onThread { try SocketDERPClient(port: port) }
        let count = 3_000
        async let sent: Void = onThread {
            for first in stride(from: 0, to: count, by: 100) {
                var batch: [UInt8] = []
                for index in first..<first + 100 {
                    batch += DERPFrame.sendPacket(to: client.key, PollLoopAttack.packet(index, tag: 7, length: 1_000))
                        .encoded()
                }
                try client.send(batch)
            }
        }
        let indices = try await onThread {
            try (0..<count).map { _ in PollLoopAttack.numbered(try client.readFrame())?.index ?? -1 }
        }
        try await sent
        #expect(indices == Array(0..<count))
        #expect(relay.server.statistics.packetsDroppedQueueFull == 0)
        #expect(relay.server.statistics.packetsRelayed == count)
    }

    @Test func destinationResetResumesPausedSender() async throws {
        let relay = try PollLoopAttack.relayWithoutTimeouts(pollThreads: 2)
        defer { relay.stop() }
        let port = relay.listener.localPort
        let flooder = try await onThread { try SocketDERPClient(port: port) }
        let witness = try await onThread { try SocketDERPClient(port: port) }
        var stalled: SocketDERPClient? = try await onThread {
            try SocketDERPClient(port: port, receiveBufferBytes: 4_096)
        }
        let stalledKey = try #require(stalled?.key)
        let flood = try #require(
            try await DERPBackPressureSocketTests.floodUntilBlocked(flooder, to: stalledKey, server: relay.server)
        )
        // A zero linger makes the close send a reset, so the server notices the destination leave at
        // once instead of after its flush timeout.
        var linger = linger(l_onoff: 1, l_linger: 0)
        setsockopt(stalled!.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
        stalled = nil
        let marker = PollLoopAttack.packet(1, tag: 0xEE)
        let atWitness = try await onThread {
            try flooder.send(Array(flood.batch[flood.offset...]))
            try flooder.send(DERPFrame.sendPacket(to: witness.key, marker).encoded())
            return try witness.readFrame()
        }
        #expect(atWitness == .recvPacket(from: flooder.key, marker))
        #expect(try await pollUntil { relay.server.statistics.currentClients == 2 })
        #expect(relay.server.statistics.readPausesTimedOut == 0)
    }

    /// Floods a destination that never reads until the sender would block, resets the
    /// destination, then sends a marker to a witness. Returns whether the witness got the marker.
    static func resetSession(port: UInt16, tag: UInt8) throws -> Bool {
        let flooder = try SocketDERPClient(port: port)
        let witness = try SocketDERPClient(port: port)
        var stalled: SocketDERPClient? = try SocketDERPClient(port: port, receiveBufferBytes: 4_096)
        let stalledKey = stalled!.key
        var flood: [UInt8] = []
        for index in 0..<256 {
            flood += DERPFrame.sendPacket(to: stalledKey, PollLoopAttack.packet(index, tag: tag, length: 2_000))
                .encoded()
        }
        var offset = 0
        for _ in 0..<64 {
            offset = try flooder.sendWithoutBlocking(flood, from: offset)
            if offset == flood.count { break }
            usleep(1_000)
        }
        var linger = linger(l_onoff: 1, l_linger: 0)
        setsockopt(stalled!.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
        stalled = nil
        try flooder.send(Array(flood[offset...]))
        let marker = PollLoopAttack.packet(0, tag: tag &+ 0x80)
        try flooder.send(DERPFrame.sendPacket(to: witness.key, marker).encoded())
        return try witness.readFrame() == .recvPacket(from: flooder.key, marker)
    }

    @Test func resetStormWithPausesSettles() async throws {
        let relay = try PollLoopAttack.relay(pollThreads: 4) {
            $0.sendQueueDepth = 4
            $0.sendQueueResumeDepth = 2
            $0.readPauseLimitMilliseconds = 600_000
            $0.writeStallTimeoutMilliseconds = 600_000
        }
        defer { relay.stop() }
        let port = relay.listener.localPort
        let sessions = 6
        let delivered = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<6 {
                group.addTask {
                    try await onThread {
                        try (0..<sessions).reduce(0) { sum, _ in
                            sum + (try Self.resetSession(port: port, tag: UInt8(worker)) ? 1 : 0)
                        }
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(delivered == 6 * sessions)
        #expect(relay.server.statistics.readPauses > 0)
        #expect(relay.server.statistics.readPausesTimedOut == 0)
        #expect(try await pollUntil { relay.server.statistics.currentClients == 0 })
        #expect(try await pollUntil { PollLoopAttack.acceptedSocketCount(port: port) == 0 })
    }

    /// Weak references to a released relay's server and loops.
    final class ReleasedRelay: @unchecked Sendable {
        weak var server: DERPServer?
        weak var http: HTTPServer?
        var loops: [Weak] = []

        final class Weak {
            weak var loop: PollLoop?
            init(_ loop: PollLoop) { self.loop = loop }
        }

        var isReleased: Bool { server == nil && http == nil && loops.allSatisfy { $0.loop == nil } }
    }

    @Test func releasedServerStopsLoopThreads() async throws {
        let released = ReleasedRelay()
        let listener = try TCPListener(host: "127.0.0.1", port: 0, logger: PollLoopAttack.logger)
        defer { listener.stop() }
        let port = listener.localPort
        do {
            var limits = DERPServerLimits()
            limits.pollThreads = 2
            let server = DERPServer(
                privateKey: NaClBox.makePrivateKey(),
                logger: PollLoopAttack.logger,
                admitClient: nil,
                limits: limits
            )
            let http = HTTPServer(handler: DERPUpgradeHandler(server: server), logger: PollLoopAttack.logger)
            released.server = server
            released.http = http
            released.loops = (server.pollLoops?.loops ?? []).map { ReleasedRelay.Weak($0) }
            // The listener outlives the test body's references, so it holds the HTTP server weakly.
            listener.start { [weak http] stream in http?.serve(stream, isSecure: false) }
            let rounds = try await onThread {
                let alice = try SocketDERPClient(port: port)
                let bob = try SocketDERPClient(port: port)
                return try Self.bounce(alice, bob, rounds: 50)
            }
            #expect(rounds == 50)
            #expect(released.loops.count == 2)
            #expect(try await pollUntil { server.statistics.currentClients == 0 })
            #expect(try await pollUntil { PollLoopAttack.acceptedSocketCount(port: port) == 0 })
        }
        #expect(try await pollUntil { released.isReleased })
    }

    @Test func duplicateKeyFallsBackOnReset() async throws {
        let relay = try PollLoopAttack.relay(pollThreads: 2)
        defer { relay.stop() }
        let port = relay.listener.localPort
        let (atNewer, atOlder) = try await onThread {
            let sender = try SocketDERPClient(port: port)
            let older = try WebSocketDERPClient(port: port)
            var newer: WebSocketDERPClient? = try WebSocketDERPClient(port: port, privateKey: older.privateKey)
            let first = PollLoopAttack.packet(1, tag: 1)
            try sender.send(DERPFrame.sendPacket(to: older.key, first).encoded())
            let atNewer = try newer!.readFrame() == .recvPacket(from: sender.key, first)
            let newerConnection = relay.server.registry.withLock { $0.activeConnection(for: older.key) }
            var linger = linger(l_onoff: 1, l_linger: 0)
            setsockopt(newer!.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
            newer = nil
            for _ in 0..<60_000 {
                let active = relay.server.registry.withLock { $0.activeConnection(for: older.key) }
                if active !== newerConnection { break }
                usleep(1_000)
            }
            let second = PollLoopAttack.packet(2, tag: 2)
            try sender.send(DERPFrame.sendPacket(to: older.key, second).encoded())
            return (atNewer, try older.readFrame() == .recvPacket(from: sender.key, second))
        }
        #expect(atNewer)
        #expect(atOlder)
        #expect(try await pollUntil { relay.server.statistics.currentClients == 0 })
        #expect(try await pollUntil { PollLoopAttack.acceptedSocketCount(port: port) == 0 })
    }

    /// Waits until the loops' event count stays the same for one second. Returns false when it
    /// keeps changing for 60 s, because then a loop keeps finding a descriptor ready.
    static func loopsSettle(_ server: DERPServer) async throws -> Bool {
        func events() -> Int { server.pollLoops?.loops.reduce(0) { $0 + $1.eventsHandled } ?? 0 }
        var last = events()
        var stableSince = ContinuousClock.now
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now - stableSince < .seconds(1) {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(50))
            let current = events()
            if current != last {
                last = current
                stableSince = ContinuousClock.now
            }
        }
        return true
    }

    @Test func stuckPeersLeaveLoopsIdle() async throws {
        let relay = try PollLoopAttack.relayWithoutTimeouts(pollThreads: 2)
        defer { relay.stop() }
        let port = relay.listener.localPort
        let clients = try await onThread {
            let halfClosed = try SocketDERPClient(port: port)
            let violator = try SocketDERPClient(port: port)
            let flooder = try SocketDERPClient(port: port)
            let stalled = try SocketDERPClient(port: port, receiveBufferBytes: 4_096)
            return [halfClosed, violator, flooder, stalled]
        }
        let (halfClosed, violator, flooder, stalled) = (clients[0], clients[1], clients[2], clients[3])
        // A peer that stops sending but keeps reading.
        shutdown(halfClosed.fd, Int32(SHUT_WR))
        // A frame type reserved for mesh peers closes the connection. The client keeps its socket
        // open without sending, so the server lingers on it.
        try await onThread {
            try violator.send(DERPFrame(type: .forwardPacket, payload: [UInt8](repeating: 0, count: 64)).encoded())
        }
        let flood = try await DERPBackPressureSocketTests.floodUntilBlocked(
            flooder,
            to: stalled.key,
            server: relay.server
        )
        #expect(flood != nil)
        #expect(try await Self.loopsSettle(relay.server))
        #expect(relay.server.statistics.protocolViolations == 1)
        #expect(try await pollUntil { relay.server.statistics.currentClients == 2 })
        withExtendedLifetime(clients) {}
    }

    @Test func webSocketClientsRelayBothWays() async throws {
        let relay = try PollLoopAttack.relay(pollThreads: 2)
        defer { relay.stop() }
        let port = relay.listener.localPort
        let rounds = 150
        let (overWebSocket, mixed) = try await onThread {
            let alice = try WebSocketDERPClient(port: port)
            let bob = try WebSocketDERPClient(port: port)
            let carol = try SocketDERPClient(port: port)
            return (try Self.bounce(alice, bob, rounds: rounds), try Self.bounce(carol, alice, rounds: rounds))
        }
        #expect(overWebSocket == rounds)
        #expect(mixed == rounds)
        let loopEvents = relay.server.pollLoops?.loops.reduce(0) { $0 + $1.eventsHandled } ?? 0
        #expect(loopEvents >= 4 * rounds)
        #expect(try await pollUntil { relay.server.statistics.currentClients == 0 })
        #expect(try await pollUntil { PollLoopAttack.acceptedSocketCount(port: port) == 0 })
    }

    @Test func shutdownDuringRelayClosesClients() async throws {
        let relay = try PollLoopAttack.relay(pollThreads: 3)
        let port = relay.listener.localPort
        let roundsDone = RoundCounter()
        let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    try await onThread {
                        let alice = try SocketDERPClient(port: port)
                        let bob = try SocketDERPClient(port: port)
                        do {
                            for _ in 0..<1_000_000 {
                                _ = try Self.bounce(alice, bob, rounds: 1)
                                roundsDone.value.add(1, ordering: .relaxed)
                            }
                            return "never closed"
                        } catch {
                            return PollLoopAttack.isClosedByPeer(error) ? "closed" : String(describing: error)
                        }
                    }
                }
            }
            #expect(try await pollUntil { roundsDone.value.load(ordering: .relaxed) >= 300 })
            relay.stop()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes == ["closed", "closed", "closed"])
        #expect(try await pollUntil { PollLoopAttack.acceptedSocketCount(port: port) == 0 })
    }
}
