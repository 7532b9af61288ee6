import HSCore
import HSPosix
import Testing

@testable import HSDERP

/// Back-pressure over real TCP sockets: a sender whose destination's queue is full is no longer
/// read, other pairs keep flowing, and the pause ends when the destination drains or times out.
@Suite struct DERPBackPressureSocketTests {
    static let packetLength = 32 << 10
    static let framesPerBatch = 64

    /// SendPacket frames to `destination` for packets `first..<first + count`, each carrying its
    /// index big-endian in its first 4 bytes.
    static func numberedFrames(to destination: NodePublicKey, first: Int, count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count * (packetLength + 40))
        for index in first..<first + count {
            var packet = [UInt8](repeating: 0x5A, count: packetLength)
            withUnsafeBytes(of: UInt32(index).bigEndian) { packet.replaceSubrange(0..<4, with: $0) }
            bytes += DERPFrame.sendPacket(to: destination, packet).encoded()
        }
        return bytes
    }

    static func packetIndex(_ frame: DERPFrame) -> Int? {
        guard frame.type == .recvPacket, frame.payload.count == 32 + packetLength else { return nil }
        return frame.payload[32..<36].reduce(0) { $0 << 8 | Int($1) }
    }

    static func waitFor(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition(), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits until the server's packet and pause counts stay the same for one second, then returns
    /// its statistics.
    static func settledStatistics(_ server: DERPServer) async throws -> DERPServer.Statistics {
        var last = server.statistics
        var stableSince = ContinuousClock.now
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now - stableSince < .seconds(1), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            let current = server.statistics
            if current.packetsReceived != last.packetsReceived || current.readPauses != last.readPauses {
                last = current
                stableSince = ContinuousClock.now
            }
        }
        return last
    }

    /// Starts a relay with the default limits except the two timeouts these tests depend on.
    static func relay(readPauseLimitMilliseconds: Int, writeStallTimeoutMilliseconds: Int) throws -> DERPSocketServer {
        var limits = DERPServerLimits()
        limits.readPauseLimitMilliseconds = readPauseLimitMilliseconds
        limits.writeStallTimeoutMilliseconds = writeStallTimeoutMilliseconds
        return try DERPSocketServer(limits: limits)
    }

    /// A flood sent until the sender's socket took no more while the server had paused it.
    struct Flood: Sendable {
        /// Frames before `batch`, all sent whole.
        var framesBefore: Int
        var batch: [UInt8]
        /// Bytes of `batch` sent so far.
        var offset: Int
    }

    /// Sends numbered batches from `flooder` to `destination` without blocking until a send would
    /// block while the server counts a read pause. Returns nil after 256 MiB without that.
    static func floodUntilBlocked(
        _ flooder: SocketDERPClient,
        to destination: NodePublicKey,
        server: DERPServer
    ) async throws -> Flood? {
        var framesBefore = 0
        var batch = numberedFrames(to: destination, first: 0, count: framesPerBatch)
        var offset = 0
        while framesBefore * packetLength < 256 << 20 {
            offset = try await onThread { [batch, offset] in try flooder.sendWithoutBlocking(batch, from: offset) }
            if offset < batch.count {
                if server.statistics.readPauses > 0 {
                    return Flood(framesBefore: framesBefore, batch: batch, offset: offset)
                }
                try await Task.sleep(for: .milliseconds(10))
                continue
            }
            framesBefore += framesPerBatch
            batch = numberedFrames(to: destination, first: framesBefore, count: framesPerBatch)
            offset = 0
        }
        return nil
    }

    @Test func floodPausesOnlyItsSender() async throws {
        let relay = try Self.relay(readPauseLimitMilliseconds: 600_000, writeStallTimeoutMilliseconds: 600_000)
        defer { relay.stop() }
        let port = relay.listener.localPort
        let flooder = try await onThread { try SocketDERPClient(port: port, sendBufferBytes: 64 << 10) }
        let reader = try await onThread { try SocketDERPClient(port: port, receiveBufferBytes: 4_096) }
        let alice = try await onThread { try SocketDERPClient(port: port) }
        let bob = try await onThread { try SocketDERPClient(port: port) }

        let flood = try #require(try await Self.floodUntilBlocked(flooder, to: reader.key, server: relay.server))
        // The kernel may still take some of the reader's backlog, which wakes the flooder for a few
        // more packets. So the count starts once nothing moves for a second.
        let settled = try await Self.settledStatistics(relay.server)
        let receivedWhilePaused = settled.packetsReceived

        // Another pair gets through while the flooder's bytes wait unread.
        let toBob = try await onThread {
            var bytes: [UInt8] = []
            for index in 0..<10 {
                bytes += DERPFrame.sendPacket(to: bob.key, [UInt8(index)]).encoded()
            }
            try alice.send(bytes)
            return try (0..<10).map { _ in try bob.readFrame().payload.last }
        }
        #expect(toBob == Array(0..<10))
        var statistics = relay.server.statistics
        #expect(statistics.packetsReceived == receivedWhilePaused + 10)
        #expect(statistics.readPauses == settled.readPauses)
        #expect(statistics.packetsDroppedQueueFull == 0)

        // Once the reader reads, the flooder resumes and every packet arrives in order.
        let total = flood.framesBefore + Self.framesPerBatch
        async let rest: Void = onThread { try flooder.send(Array(flood.batch[flood.offset...])) }
        let indices = try await onThread { try (0..<total).map { _ in Self.packetIndex(try reader.readFrame()) } }
        try await rest
        #expect(indices == Array(0..<total))
        try await Self.waitFor { relay.server.statistics.packetsRelayed == total + 10 }
        statistics = relay.server.statistics
        #expect(statistics.packetsRelayed == total + 10)
        #expect(statistics.packetsDroppedQueueFull == 0)
        #expect(statistics.readPausesTimedOut == 0)
    }

    @Test func stalledReceiverDisconnectedSenderResumes() async throws {
        let relay = try Self.relay(readPauseLimitMilliseconds: 200, writeStallTimeoutMilliseconds: 1_000)
        defer { relay.stop() }
        let port = relay.listener.localPort
        let flooder = try await onThread { try SocketDERPClient(port: port) }
        let stalled = try await onThread { try SocketDERPClient(port: port, receiveBufferBytes: 4_096) }

        // 16 MiB to a client that never reads, far more than its 4 KiB receive buffer and the
        // 32-packet send queue take.
        try await onThread {
            for first in stride(from: 0, to: 512, by: Self.framesPerBatch) {
                try flooder.send(Self.numberedFrames(to: stalled.key, first: first, count: Self.framesPerBatch))
            }
        }
        try await Self.waitFor { relay.server.statistics.writeStallDisconnects > 0 }
        let pong = try await onThread {
            try flooder.send(DERPFrame.ping([1, 2, 3, 4, 5, 6, 7, 8]).encoded())
            return try flooder.readFrame()
        }
        #expect(pong == .pong([1, 2, 3, 4, 5, 6, 7, 8]))
        let statistics = relay.server.statistics
        #expect(statistics.writeStallDisconnects == 1)
        #expect(statistics.readPauses >= 1)
        #expect(statistics.readPausesTimedOut >= 1)
        #expect(statistics.packetsDroppedQueueFull > 0)
        #expect(statistics.currentClients == 1)
        withExtendedLifetime(stalled) {}
    }
}
