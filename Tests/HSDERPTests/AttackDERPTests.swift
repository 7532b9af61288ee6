import HSCore
import HSCrypto
import Testing

@testable import HSDERP

/// Hostile DERP clients next to an honest pair A and B. Each test checks that the attacker is
/// stopped or contained, that A and B still exchange packets, and, for malformed frames, that one
/// warning names the attacker's address.
@Suite struct AttackDERPTests {
    /// A frame header whose length is over the 1 MiB frame limit, the payload never sent.
    static let oversizedHeader: [UInt8] = [DERPFrameType.sendPacket.rawValue, 0xFF, 0xFF, 0xFF, 0xF0]

    @Test func lyingLengthsCloseAndLogOnce() async throws {
        let fixture = AttackDERPFixture()
        let a = try await fixture.connect(name: "a")
        let b = try await fixture.connect(name: "b")

        // Five connections from one address announce frames larger than the limit.
        for index in 0..<5 {
            let attacker = try await fixture.connect(name: "big\(index)", source: "127.0.0.80")
            attacker.sendRaw(Self.oversizedHeader)
            #expect(await attacker.isClosedByServer())
        }
        // A SendPacket frame whose length is too short to hold the 32-byte destination key.
        let short = try await fixture.connect(name: "short", source: "127.0.0.81")
        short.sendRaw([DERPFrameType.sendPacket.rawValue, 0, 0, 0, 10] + Array(repeating: 7, count: 10))
        #expect(await short.isClosedByServer())

        a.send(.sendPacket(to: b.key, [1, 2, 3]))
        #expect(await b.receivesPacket(from: a.key, [1, 2, 3]))
        b.send(.sendPacket(to: a.key, [4, 5]))
        #expect(await a.receivesPacket(from: b.key, [4, 5]))
        #expect(fixture.server.statistics.currentClients == 2)

        let lines = fixture.offenderLines(kind: "derp-frame", source: "127.0.0.80")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("similar_since_last=0") == true)
        #expect(fixture.offenderLines(kind: "derp-frame", source: "127.0.0.81").count == 1)
        #expect(fixture.offenderLines(kind: "derp-frame", source: "127.0.0.1").isEmpty)
    }

    @Test func floodLeavesOtherPairsServed() async throws {
        let fixture = AttackDERPFixture()
        let a = try await fixture.connect(name: "a")
        let b = try await fixture.connect(name: "b")
        let victim = try await fixture.connect(name: "victim")
        let attacker = try await fixture.connect(name: "flooder", source: "127.0.0.82")

        // The attacker sends 5,000 packets of 1 KiB to the victim as fast as it can.
        let packet = [UInt8](repeating: 0xAB, count: 1024)
        for _ in 0..<5000 {
            attacker.send(.sendPacket(to: victim.key, packet))
        }
        a.send(.sendPacket(to: b.key, [9, 9, 9]))
        #expect(await b.receivesPacket(from: a.key, [9, 9, 9]))

        // The victim itself still gets a packet from A once the flood is over. Until then A's
        // packet could be dropped with the flood's, because a full queue drops its oldest packet.
        let deadline = ContinuousClock.now + .seconds(60)
        while fixture.server.statistics.packetsReceived < 5001, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        a.send(.sendPacket(to: victim.key, [1]))
        #expect(await victim.receivesPacket(from: a.key, [1], timeout: .seconds(60)))
        let statistics = fixture.server.statistics
        #expect(statistics.currentClients == 4)
        #expect(statistics.packetsReceived >= 5002)
    }

    @Test func queueOverflowNamesSender() async throws {
        var limits = DERPTestHarness.relaxedLimits
        limits.readPauseLimitMilliseconds = 50
        let fixture = AttackDERPFixture(limits: limits)
        let victim = try await fixture.connect(name: "victim")
        let attacker = try await fixture.connect(name: "flooder", source: "127.0.0.83")
        victim.serverEnd.pause()

        // 60 KiB packets to a reader that stopped: past the stream's buffer and the 32-packet
        // queue the attacker is paused, and once the pause limit passes the oldest are dropped,
        // several times within one read of the attacker's frames.
        let packet = [UInt8](repeating: 0xCD, count: 60 << 10)
        for _ in 0..<80 {
            attacker.send(.sendPacket(to: victim.key, packet))
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while fixture.server.statistics.packetsDroppedQueueFull == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(fixture.server.statistics.packetsDroppedQueueFull > 0)
        try await Task.sleep(for: .milliseconds(200))
        let lines = fixture.offenderLines(kind: "derp-queue-full", source: "127.0.0.83")
        #expect(lines.count == 1)
        #expect(fixture.offenderLines(kind: "derp-queue-full", source: "127.0.0.1").isEmpty)
        victim.serverEnd.resume()
    }

    @Test func unknownDestinationsDropped() async throws {
        let fixture = AttackDERPFixture()
        let a = try await fixture.connect(name: "a")
        let b = try await fixture.connect(name: "b")
        let attacker = try await fixture.connect(name: "prober", source: "127.0.0.83")

        for _ in 0..<2000 {
            let stranger = NodePublicKey(bytes: NaClBox.publicKey(forPrivateKey: NaClBox.makePrivateKey()))!
            attacker.send(.sendPacket(to: stranger, [0]))
        }
        a.send(.sendPacket(to: b.key, [5]))
        #expect(await b.receivesPacket(from: a.key, [5]))

        // The prober stays connected: sending to a key that is not here is what clients do when a
        // peer has just left, so it is counted, not punished.
        attacker.send(.sendPacket(to: b.key, [6]))
        #expect(await b.receivesPacket(from: attacker.key, [6]))
        let statistics = fixture.server.statistics
        #expect(statistics.packetsDroppedUnknownDestination == 2000)
        #expect(statistics.currentClients == 3)
    }
}
