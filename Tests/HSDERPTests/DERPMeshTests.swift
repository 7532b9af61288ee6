import HSCore
import HSCrypto
import Testing

@testable import HSDERP

/// Mesh peers, the relays that present this relay's mesh key, watch its clients, close them and
/// forward packets to them. Clients without the key may do none of it.
@Suite struct DERPMeshTests {
    static let meshKey = [UInt8](repeating: 0x5A, count: 32)

    /// Connects a client whose ClientInfo carries `meshKey` as hex.
    static func connectMeshPeer(_ harness: DERPTestHarness, meshKey: [UInt8] = meshKey) async throws -> TestDERPClient {
        let (client, _) = harness.open(name: "mesh")
        let serverKey = try await client.readServerKey()
        let json = #"{"version":2,"CanAckPings":true,"meshKey":"\#(Hex.encode(meshKey))"}"#
        try client.sendClientInfo(serverKey: serverKey, json: json)
        _ = try await client.readServerInfo(serverKey: serverKey)
        return client
    }

    /// Reads frames until one of `type` arrives, skipping KeepAlive and PeerPresent of `skip`.
    static func next(_ type: DERPFrameType, from client: TestDERPClient, skipping skip: NodePublicKey? = nil)
        async throws -> DERPFrame
    {
        while true {
            let frame = try await client.nextNonKeepAliveFrame()
            if let skip, frame.type == .peerPresent, Array(frame.payload.prefix(32)) == skip.bytes { continue }
            if frame.type == type { return frame }
        }
    }

    @Test func watcherHearsArrivalsAndDepartures() async throws {
        let harness = DERPTestHarness(meshKey: Self.meshKey)
        let alice = try await harness.connect(name: "alice")
        let peer = try await Self.connectMeshPeer(harness)
        peer.send(.watchConns)

        let present = try await Self.next(.peerPresent, from: peer, skipping: peer.key)
        #expect(present.payload.count == DERPFrame.peerPresentLength)
        #expect(Array(present.payload.prefix(32)) == alice.key.bytes)
        // 127.0.0.1 as IPv4-mapped IPv6, port 2 (the memory stream's address), flags "regular".
        #expect(Array(present.payload[32..<48]) == [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 127, 0, 0, 1])
        #expect(Array(present.payload[48..<51]) == [0, 2, 0x01])

        let bob = try await harness.connect(name: "bob")
        let arrived = try await Self.next(.peerPresent, from: peer, skipping: peer.key)
        #expect(Array(arrived.payload.prefix(32)) == bob.key.bytes)

        bob.disconnect()
        let gone = try await Self.next(.peerGone, from: peer)
        #expect(gone.payload == bob.key.bytes + [DERPPeerGoneReason.disconnected.rawValue])
        #expect(harness.server.statistics.meshPeersAccepted == 1)
    }

    @Test func forwardedPacketReachesClient() async throws {
        let harness = DERPTestHarness(meshKey: Self.meshKey)
        let alice = try await harness.connect(name: "alice")
        let peer = try await Self.connectMeshPeer(harness)
        let remote = NodePublicKey(bytes: [UInt8](repeating: 7, count: 32))!
        peer.send(.forwardPacket(from: remote, to: alice.key, [1, 2, 3]))
        #expect(try await alice.nextNonKeepAliveFrame() == .recvPacket(from: remote, [1, 2, 3]))

        let absent = NodePublicKey(bytes: [UInt8](repeating: 8, count: 32))!
        peer.send(.forwardPacket(from: remote, to: absent, [4]))
        peer.send(.ping([1, 1, 1, 1, 1, 1, 1, 1]))
        _ = try await Self.next(.pong, from: peer)
        #expect(harness.server.statistics.packetsForwardedIn == 2)
        #expect(harness.server.statistics.packetsDroppedUnknownDestination == 1)
    }

    @Test func closePeerClosesClientOnly() async throws {
        let harness = DERPTestHarness(meshKey: Self.meshKey)
        let alice = try await harness.connect(name: "alice")
        let peer = try await Self.connectMeshPeer(harness)
        peer.send(.closePeer(peer.key))
        peer.send(.closePeer(alice.key))
        #expect(await alice.nextEvent() == .closed)
        peer.send(.ping([2, 2, 2, 2, 2, 2, 2, 2]))
        #expect(try await Self.next(.pong, from: peer) == .pong([2, 2, 2, 2, 2, 2, 2, 2]))
        #expect(harness.server.statistics.closePeerRequests == 2)
    }

    @Test func wrongMeshKeyGetsNoMeshRights() async throws {
        let harness = DERPTestHarness(meshKey: Self.meshKey)
        let impostor = try await Self.connectMeshPeer(harness, meshKey: [UInt8](repeating: 0x5B, count: 32))
        impostor.send(.watchConns)
        #expect(await impostor.nextEvent() == .closed)
        #expect(harness.server.statistics.protocolViolations == 1)
        #expect(harness.server.statistics.meshPeersAccepted == 0)
    }

    @Test func meshPeerSkipsNodeAdmission() async throws {
        let harness = DERPTestHarness(admitClient: { _ in false }, meshKey: Self.meshKey)
        let peer = try await Self.connectMeshPeer(harness)
        peer.send(.ping([3, 3, 3, 3, 3, 3, 3, 3]))
        #expect(try await Self.next(.pong, from: peer) == .pong([3, 3, 3, 3, 3, 3, 3, 3]))

        let (stranger, _) = harness.open(name: "stranger")
        let serverKey = try await stranger.readServerKey()
        try stranger.sendClientInfo(serverKey: serverKey)
        #expect(await stranger.nextEvent() == .closed)
        #expect(harness.server.statistics.rejectedClients == 1)
    }

    @Test func relayWithoutKeyHasNoMeshPeers() {
        let harness = DERPTestHarness()
        #expect(!harness.server.isMeshKey(Hex.encode(Self.meshKey)))
        let meshed = DERPTestHarness(meshKey: Self.meshKey)
        #expect(meshed.server.isMeshKey(Hex.encode(Self.meshKey)))
        #expect(!meshed.server.isMeshKey(Hex.encode(Self.meshKey.dropLast())))
        #expect(!meshed.server.isMeshKey("not hex"))
        #expect(!meshed.server.isMeshKey(nil))
    }

    @Test func meshFramesDecodeAndCheckLengths() throws {
        let key = NodePublicKey(bytes: [UInt8](repeating: 4, count: 32))!
        let other = NodePublicKey(bytes: [UInt8](repeating: 5, count: 32))!
        #expect(try DERPClientMessage.decode(.closePeer(key)) == .closePeer(key))
        #expect(throws: DERPError.self) { try DERPClientMessage.decode(DERPFrame(type: .closePeer, payload: [1])) }
        let forwarded = try DERPClientMessage.decode(.forwardPacket(from: key, to: other, [9, 9]))
        #expect(forwarded == .forwardPacket(source: key, destination: other, packet: [9, 9]))
        #expect(throws: DERPError.self) {
            try DERPClientMessage.decode(DERPFrame(type: .forwardPacket, payload: key.bytes))
        }
        let oversized = key.bytes + other.bytes + [UInt8](repeating: 0, count: DERP.maxPacketLength + 1)
        #expect(throws: DERPError.self) {
            try DERPClientMessage.decode(DERPFrame(type: .forwardPacket, payload: oversized))
        }
    }

    @Test func peerPresentCarriesIPv6Address() {
        let key = NodePublicKey(bytes: [UInt8](repeating: 6, count: 32))!
        let frame = DERPFrame.peerPresent(key, remoteAddress: "[2001:db8::1]:41641", flags: .meshPeer)
        #expect(frame.payload.count == DERPFrame.peerPresentLength)
        #expect(Array(frame.payload[32..<48]) == [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1])
        #expect(Array(frame.payload[48..<51]) == [0xA2, 0xA9, 0x02])
        let unknown = DERPFrame.peerPresent(key, remoteAddress: "/run/socket", flags: .regular)
        #expect(Array(unknown.payload[32..<50]) == [UInt8](repeating: 0, count: 18))
    }
}
