import HSCore
import HSDERP
import HSPosix
import Testing

/// The relay over real TCP sockets: many frames per read, batched writes and partial sends.
@Suite struct DERPRelaySocketTests {
    /// SendPacket frames for `destination` whose packets carry their index in the first 2 bytes.
    private static func numberedPackets(to destination: NodePublicKey, count: Int, length: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for index in 0..<count {
            var packet = [UInt8](repeating: UInt8(truncatingIfNeeded: index &* 7), count: length)
            packet[0] = UInt8(index >> 8)
            packet[1] = UInt8(index & 0xFF)
            bytes += DERPFrame.sendPacket(to: destination, packet).encoded()
        }
        return bytes
    }

    /// Checks that `frames` are RecvPacket frames from `source` carrying packets 0..<count in order.
    private static func expectNumbered(_ frames: [DERPFrame], from source: NodePublicKey, length: Int) {
        for (index, frame) in frames.enumerated() {
            #expect(frame.type == .recvPacket)
            #expect(Array(frame.payload.prefix(32)) == source.bytes)
            let packet = Array(frame.payload.dropFirst(32))
            #expect(packet.count == length)
            #expect(packet.first.map { Int($0) << 8 | Int(packet[1]) } == index)
            #expect(packet.dropFirst(2).allSatisfy { $0 == UInt8(truncatingIfNeeded: index &* 7) })
        }
    }

    @Test func burstInOneSendArrivesInOrder() async throws {
        let relay = try DERPSocketServer()
        defer { relay.stop() }
        let port = relay.listener.localPort
        let frames = try await onThread {
            let alice = try SocketDERPClient(port: port)
            let bob = try SocketDERPClient(port: port)
            // 30 packets stay below the 32-packet queue depth, so none may be dropped.
            try alice.send(Self.numberedPackets(to: bob.key, count: 30, length: 1_200))
            return (alice.key, try (0..<30).map { _ in try bob.readFrame() })
        }
        #expect(frames.1.count == 30)
        Self.expectNumbered(frames.1, from: frames.0, length: 1_200)
        #expect(relay.server.statistics.packetsReceived == 30)
        #expect(relay.server.statistics.packetsRelayed == 30)
    }

    @Test func mixedDestinationsInOneRead() async throws {
        let relay = try DERPSocketServer()
        defer { relay.stop() }
        let port = relay.listener.localPort
        let result = try await onThread {
            let alice = try SocketDERPClient(port: port)
            let bob = try SocketDERPClient(port: port)
            let carol = try SocketDERPClient(port: port)
            let absent = NodePublicKey(bytes: [UInt8](repeating: 9, count: 32))!
            var bytes: [UInt8] = []
            for index in 0..<10 {
                let destination = [bob.key, carol.key, absent][index % 3]
                bytes += DERPFrame.sendPacket(to: destination, [UInt8(index)]).encoded()
            }
            bytes += DERPFrame.ping([1, 2, 3, 4, 5, 6, 7, 8]).encoded()
            try alice.send(bytes)
            let pong = try alice.readFrame()
            let toBob = try (0..<4).map { _ in try bob.readFrame().payload.last }
            let toCarol = try (0..<3).map { _ in try carol.readFrame().payload.last }
            return (pong, toBob, toCarol)
        }
        #expect(result.0 == .pong([1, 2, 3, 4, 5, 6, 7, 8]))
        #expect(result.1 == [0, 3, 6, 9])
        #expect(result.2 == [1, 4, 7])
        #expect(relay.server.statistics.packetsReceived == 10)
        #expect(relay.server.statistics.packetsDroppedUnknownDestination == 3)
    }

    @Test func lateReaderGetsWholeBacklog() async throws {
        let relay = try DERPSocketServer()
        defer { relay.stop() }
        let port = relay.listener.localPort
        let count = 24
        let length = 16 << 10
        let result = try await onThread {
            let alice = try SocketDERPClient(port: port)
            // A small receive buffer makes the server's gathered sends stop part-way through.
            let bob = try SocketDERPClient(port: port, receiveBufferBytes: 4_096)
            try alice.send(Self.numberedPackets(to: bob.key, count: count, length: length))
            try alice.send(DERPFrame.ping([0, 0, 0, 0, 0, 0, 0, 1]).encoded())
            _ = try alice.readFrame()
            return (alice.key, try (0..<count).map { _ in try bob.readFrame() })
        }
        Self.expectNumbered(result.1, from: result.0, length: length)
        #expect(relay.server.statistics.packetsDroppedQueueFull == 0)
    }
}
