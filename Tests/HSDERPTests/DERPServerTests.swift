import HSCore
import HSCrypto
import HSHTTP
import Testing

@testable import HSDERP

@Suite struct DERPServerTests {
    @Test func upgradeAnswers101WithKey() async throws {
        let harness = DERPTestHarness()
        let (client, responder) = harness.open(name: "upgrade")
        let serverKey = try await client.readServerKey()

        let head = try #require(responder.responses.first)
        #expect(head.status == 101)
        #expect(head.headers["Upgrade"] == "DERP")
        #expect(head.headers["Connection"] == "Upgrade")
        #expect(head.headers["Derp-Version"] == "2")
        #expect(head.headers["Derp-Public-Key"] == Hex.encode(harness.server.publicKey.bytes))
        #expect(serverKey == harness.server.publicKey)
    }

    @Test func upgradeAcceptsAnyCase() {
        let harness = DERPTestHarness()
        var request = DERPTestHarness.upgradeRequest
        request.headers.set("Upgrade", "dErP")
        let responder = RecordingResponder()
        harness.server.handleUpgrade(request, responder: responder)
        #expect(responder.responses.first?.status == 101)
    }

    @Test(arguments: ["h2c", ""])
    func otherUpgradeGets426(upgrade: String) {
        let harness = DERPTestHarness()
        var request = DERPTestHarness.upgradeRequest
        request.headers.set("Upgrade", upgrade)
        let responder = RecordingResponder()
        harness.server.handleUpgrade(request, responder: responder)
        let response = responder.responses.first
        #expect(response?.status == 426)
        #expect(response?.body == Array("DERP requires connection upgrade".utf8))
    }

    @Test func handshakeSealsServerInfoToClient() async throws {
        let harness = DERPTestHarness()
        let (client, _) = harness.open(name: "handshake")
        let serverKey = try await client.readServerKey()
        try client.sendClientInfo(serverKey: serverKey)
        let info = try await client.readServerInfo(serverKey: serverKey)
        #expect(info["version"] as? Int == 2)
        #expect(info.count == 1)
        #expect(harness.server.statistics.currentClients == 1)
    }

    @Test func packetsRelayBothWays() async throws {
        let harness = DERPTestHarness()
        let alice = try await harness.connect(name: "alice")
        let bob = try await harness.connect(name: "bob")

        alice.send(.sendPacket(to: bob.key, [1, 2, 3]))
        let atBob = try await bob.nextNonKeepAliveFrame()
        #expect(atBob == .recvPacket(from: alice.key, [1, 2, 3]))

        bob.send(.sendPacket(to: alice.key, [4, 5]))
        let atAlice = try await alice.nextNonKeepAliveFrame()
        #expect(atAlice.type == .recvPacket)
        #expect(Array(atAlice.payload.prefix(32)) == bob.key.bytes)
        #expect(Array(atAlice.payload.dropFirst(32)) == [4, 5])

        let statistics = harness.server.statistics
        #expect(statistics.packetsRelayed == 2)
        #expect(statistics.bytesRelayed == 5)
    }

    @Test func unknownDestinationGetsPeerGone() async throws {
        let harness = DERPTestHarness()
        let alice = try await harness.connect(name: "alice")
        let nowhere = NodePublicKey(bytes: NaClBox.randomBytes(32))!
        let discoPacket = Array("TS💬".utf8) + [UInt8](repeating: 7, count: 70)

        alice.send(.sendPacket(to: nowhere, discoPacket))
        let reply = try await alice.nextNonKeepAliveFrame()
        #expect(reply.type == .peerGone)
        #expect(reply.payload == nowhere.bytes + [0x01])
        #expect(harness.server.statistics.packetsDroppedUnknownDestination == 1)
    }

    @Test func unknownDestinationIgnoresNonDisco() async throws {
        let harness = DERPTestHarness()
        let alice = try await harness.connect(name: "alice")
        let nowhere = NodePublicKey(bytes: NaClBox.randomBytes(32))!

        alice.send(.sendPacket(to: nowhere, [UInt8](repeating: 9, count: 100)))
        alice.send(.ping([1, 2, 3, 4, 5, 6, 7, 8]))
        // The server handles frames in order, so a PeerGone would come before the Pong.
        let reply = try await alice.nextNonKeepAliveFrame()
        #expect(reply.type == .pong)
        #expect(harness.server.statistics.packetsDroppedUnknownDestination == 1)
    }

    @Test func peerGoneRepliesAreRateLimited() async throws {
        // No refill, so the count does not depend on how fast the frames arrive.
        var limits = DERPTestHarness.relaxedLimits
        limits.peerGonePerSecond = 0
        let harness = DERPTestHarness(limits: limits)
        let alice = try await harness.connect(name: "alice")
        let nowhere = NodePublicKey(bytes: NaClBox.randomBytes(32))!
        let discoPacket = Array("TS💬".utf8) + [UInt8](repeating: 7, count: 70)

        for _ in 0..<10 {
            alice.send(.sendPacket(to: nowhere, discoPacket))
        }
        alice.send(.ping([8, 7, 6, 5, 4, 3, 2, 1]))
        var peerGoneCount = 0
        while try await alice.nextNonKeepAliveFrame().type == .peerGone {
            peerGoneCount += 1
        }
        #expect(peerGoneCount == 3)
        #expect(harness.server.statistics.packetsDroppedUnknownDestination == 10)
    }

    @Test func pingGetsPong() async throws {
        let harness = DERPTestHarness()
        let alice = try await harness.connect(name: "alice")
        alice.send(.ping([9, 8, 7, 6, 5, 4, 3, 2]))
        let reply = try await alice.nextNonKeepAliveFrame()
        #expect(reply == .pong([9, 8, 7, 6, 5, 4, 3, 2]))
    }

    @Test func disconnectNotifiesRecentReceivers() async throws {
        let harness = DERPTestHarness()
        let alice = try await harness.connect(name: "alice")
        let bob = try await harness.connect(name: "bob")

        alice.send(.sendPacket(to: bob.key, [1]))
        _ = try await bob.nextNonKeepAliveFrame()
        bob.send(.sendPacket(to: alice.key, [2]))
        _ = try await alice.nextNonKeepAliveFrame()

        bob.disconnect()
        let notice = try await alice.nextNonKeepAliveFrame()
        #expect(notice.type == .peerGone)
        #expect(notice.payload == bob.key.bytes + [0x00])
    }

    @Test func rejectedClientIsClosed() async throws {
        let harness = DERPTestHarness(admitClient: { _ in false })
        let (client, _) = harness.open(name: "rejected")
        let serverKey = try await client.readServerKey()
        try client.sendClientInfo(serverKey: serverKey)
        let event = await client.nextEvent()
        #expect(event == .closed)
        #expect(harness.server.statistics.rejectedClients == 1)
        #expect(harness.server.statistics.currentClients == 0)
    }

    @Test func admitClientSeesClientKey() async throws {
        let allowed = NaClBox.makePrivateKey()
        let allowedKey = NodePublicKey(bytes: NaClBox.publicKey(forPrivateKey: allowed))!
        let harness = DERPTestHarness(admitClient: { $0 == allowedKey })
        let client = try await harness.connect(name: "allowed", privateKey: allowed)
        #expect(client.key == allowedKey)
        #expect(harness.server.statistics.rejectedClients == 0)
    }

    @Test func badClientInfoBoxCloses() async throws {
        let harness = DERPTestHarness()
        let (client, _) = harness.open(name: "badbox")
        _ = try await client.readServerKey()
        // Sealed to a key that is not the server's, so the server cannot open it.
        try client.sendClientInfo(
            serverKey: NodePublicKey(bytes: NaClBox.publicKey(forPrivateKey: NaClBox.makePrivateKey()))!
        )
        #expect(await client.nextEvent() == .closed)
        #expect(harness.server.statistics.handshakeFailures == 1)
    }

    @Test func missingClientInfoTimesOut() async throws {
        var limits = DERPTestHarness.relaxedLimits
        limits.handshakeTimeoutMilliseconds = 100
        let harness = DERPTestHarness(limits: limits)
        let (client, _) = harness.open(name: "silent")
        _ = try await client.readServerKey()
        #expect(await client.nextEvent() == .closed)
        #expect(harness.server.statistics.handshakeFailures == 1)
    }

    @Test func oversizedFrameCloses() async throws {
        let harness = DERPTestHarness()
        let alice = try await harness.connect(name: "alice")
        // A SendPacket header announcing 2 MiB, with no payload behind it.
        alice.sendRaw([0x04, 0x00, 0x20, 0x00, 0x00])
        #expect(await alice.nextEvent() == .closed)
        #expect(harness.server.statistics.protocolViolations == 1)
    }

    @Test(arguments: [DERPFrameType.watchConns, .closePeer, .forwardPacket])
    func meshFrameFromClientCloses(type: DERPFrameType) async throws {
        let harness = DERPTestHarness()
        let alice = try await harness.connect(name: "alice")
        alice.send(DERPFrame(type: type, payload: type == .watchConns ? [] : [UInt8](repeating: 1, count: 64)))
        #expect(await alice.nextEvent() == .closed)
    }

    @Test func unknownFrameIsSkipped() async throws {
        let harness = DERPTestHarness()
        let alice = try await harness.connect(name: "alice")
        alice.send(DERPFrame(type: DERPFrameType(rawValue: 0x7F), payload: [1, 2, 3]))
        alice.send(.ping([1, 1, 1, 1, 1, 1, 1, 1]))
        #expect(try await alice.nextNonKeepAliveFrame().type == .pong)
        #expect(harness.server.statistics.ignoredFrames == 1)
    }

    @Test func newestDuplicateIsActive() async throws {
        let harness = DERPTestHarness()
        let sharedKey = NaClBox.makePrivateKey()
        let older = try await harness.connect(name: "older", privateKey: sharedKey)
        let newer = try await harness.connect(name: "newer", privateKey: sharedKey)
        let sender = try await harness.connect(name: "sender")
        // Both connections of the key get a Health problem saying that they are duplicates.
        let warning = DERPFrame.health(DERPServer.duplicateHealthProblem)
        #expect(try await older.nextNonKeepAliveFrame() == warning)
        #expect(try await newer.nextNonKeepAliveFrame() == warning)

        sender.send(.sendPacket(to: newer.key, [1]))
        #expect(try await newer.nextNonKeepAliveFrame() == .recvPacket(from: sender.key, [1]))

        // A frame from the older connection makes it the active one again.
        older.send(.ping([0, 0, 0, 0, 0, 0, 0, 1]))
        #expect(try await older.nextNonKeepAliveFrame().type == .pong)
        sender.send(.sendPacket(to: older.key, [2]))
        #expect(try await older.nextNonKeepAliveFrame() == .recvPacket(from: sender.key, [2]))

        // When the newer one leaves, the older one's warning is cleared.
        newer.disconnect()
        #expect(try await older.nextNonKeepAliveFrame() == .health(""))
    }

    /// Sends 40 packets of 60 KiB, numbered in their first byte, from `alice` to `bob`, then a Ping.
    /// A few fill the stream past its 64 KiB high-water mark and 32 fill the send queue.
    private static func sendNumberedLargePackets(from alice: TestDERPClient, to bob: TestDERPClient) {
        let packetLength = 60 << 10
        for index in 0..<40 {
            alice.send(.sendPacket(to: bob.key, [UInt8(index)] + [UInt8](repeating: 0, count: packetLength - 1)))
        }
        alice.send(.ping([0, 0, 0, 0, 0, 0, 0, 2]))
    }

    private static func waitFor(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition(), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func slowReaderPausesSender() async throws {
        let harness = DERPTestHarness()
        let alice = try await harness.connect(name: "alice")
        let bob = try await harness.connect(name: "bob")
        bob.serverEnd.pause()

        Self.sendNumberedLargePackets(from: alice, to: bob)
        try await Self.waitFor { harness.server.statistics.readPauses > 0 }
        #expect(harness.server.statistics.readPauses == 1)
        #expect(harness.server.statistics.packetsDroppedQueueFull == 0)

        bob.serverEnd.resume()
        var received: [UInt8] = []
        for _ in 0..<40 {
            let frame = try await bob.nextNonKeepAliveFrame()
            #expect(frame.type == .recvPacket)
            received.append(frame.payload[32])
        }
        #expect(received == Array(0..<40))
        #expect(try await alice.nextNonKeepAliveFrame().type == .pong)
        try await Self.waitFor { harness.server.statistics.packetsRelayed == 40 }
        let statistics = harness.server.statistics
        #expect(statistics.packetsRelayed == 40)
        #expect(statistics.packetsDroppedQueueFull == 0)
        #expect(statistics.readPausesTimedOut == 0)
    }

    @Test func pauseLimitFallsBackToDropping() async throws {
        var limits = DERPTestHarness.relaxedLimits
        limits.readPauseLimitMilliseconds = 50
        let harness = DERPTestHarness(limits: limits)
        let alice = try await harness.connect(name: "alice")
        let bob = try await harness.connect(name: "bob")
        bob.serverEnd.pause()

        // Past the limit the server reads Alice again, so it replies to her Ping while Bob reads
        // nothing, and the oldest of her packets fall out of Bob's full queue.
        Self.sendNumberedLargePackets(from: alice, to: bob)
        #expect(try await alice.nextNonKeepAliveFrame().type == .pong)
        #expect(harness.server.statistics.readPausesTimedOut == 1)
        let dropped = harness.server.statistics.packetsDroppedQueueFull
        #expect(dropped > 0)

        bob.serverEnd.resume()
        try await Self.waitFor { harness.server.statistics.packetsRelayed >= 40 - dropped }
        #expect(harness.server.statistics.packetsRelayed == 40 - dropped)
        var received: [UInt8] = []
        for _ in 0..<(40 - dropped) {
            let frame = try await bob.nextNonKeepAliveFrame()
            #expect(frame.type == .recvPacket)
            received.append(frame.payload[32])
        }
        #expect(received.last == 39)
        #expect(received == received.sorted())
    }

    @Test func stalledReaderIsDisconnected() async throws {
        var limits = DERPTestHarness.relaxedLimits
        limits.writeStallTimeoutMilliseconds = 200
        let harness = DERPTestHarness(limits: limits)
        let alice = try await harness.connect(name: "alice")
        let bob = try await harness.connect(name: "bob")
        bob.serverEnd.pause()

        alice.send(.sendPacket(to: bob.key, [1, 2, 3]))
        #expect(await bob.nextEvent() == .closed)
        #expect(harness.server.statistics.writeStallDisconnects == 1)
    }

    @Test func keepAliveIsSent() async throws {
        var limits = DERPTestHarness.relaxedLimits
        limits.keepAliveIntervalMilliseconds = 50
        limits.keepAliveJitterMilliseconds = 0
        let harness = DERPTestHarness(limits: limits)
        let alice = try await harness.connect(name: "alice")
        #expect(try await alice.nextFrame() == .keepAlive)
    }

    @Test func shutdownClosesClients() async throws {
        let harness = DERPTestHarness()
        let alice = try await harness.connect(name: "alice")
        harness.server.shutdown()
        // Restarting first: reconnect in 1 s (0x3E8), keep trying for 60 s (0xEA60).
        #expect(
            try await alice.nextNonKeepAliveFrame()
                == DERPFrame(type: .restarting, payload: [0, 0, 3, 0xE8, 0, 0, 0xEA, 0x60])
        )
        #expect(await alice.nextEvent() == .closed)

        let responder = RecordingResponder()
        harness.server.handleUpgrade(DERPTestHarness.upgradeRequest, responder: responder)
        #expect(responder.responses.first?.status == 503)
    }
}
