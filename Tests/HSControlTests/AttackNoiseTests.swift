import Foundation
import HSCore
import HSCrypto
import HSNoise
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Malformed, oversized and replayed Noise traffic on the real main listener, each from its own
/// 127.0.0.x address. Every test checks the attacker is cut off, the honest node still registers
/// and gets a map, the stored nodes are unchanged, and one warning names the attacker.
@Suite struct AttackNoiseTests {
    @Test func oversizedRecordClosesAndLogs() async throws {
        let fixture = try AttackServerFixture()
        let before = try fixture.storedNodes()
        let closed = try await offPool { () -> [Bool] in
            try (0..<3).map { _ in
                // A record header announcing 65,535 bytes, over the 4,093-byte limit.
                let attacker = try fixture.client(from: "127.0.0.90")
                attacker.sendRaw([NoiseFrame.recordType, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 64))
                return attacker.isClosedByServer(within: 10_000)
            }
        }
        #expect(closed == [true, true, true])
        try await expectHonestUnharmed(fixture, before: before)
        let lines = try await fixture.waitForOffenderLines(kind: "noise-session", source: "127.0.0.90")
        #expect(lines.count == 1)
    }

    @Test func truncatedRecordClosesAndLogs() async throws {
        let fixture = try AttackServerFixture()
        let before = try fixture.storedNodes()
        let closed = try await offPool { () -> Bool in
            // A record of 8 bytes cannot even hold the 16-byte authentication tag.
            let attacker = try fixture.client(from: "127.0.0.91")
            attacker.sendRaw([NoiseFrame.recordType, 0x00, 0x08] + [UInt8](repeating: 0x41, count: 8))
            return attacker.isClosedByServer(within: 10_000)
        }
        #expect(closed)
        try await expectHonestUnharmed(fixture, before: before)
        #expect(try await fixture.waitForOffenderLines(kind: "noise-session", source: "127.0.0.91").count == 1)
    }

    @Test func replayedRecordClosesAndLogs() async throws {
        let fixture = try AttackServerFixture()
        let before = try fixture.storedNodes()
        let closed = try await offPool { () -> Bool in
            let attacker = try fixture.client(from: "127.0.0.92")
            let preface =
                Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + RawHTTP2.frame(.settings, flags: 0, stream: 0, [])
            let record = try attacker.seal(preface)
            attacker.sendRaw(record)
            // The same record again: its nonce is spent, so it fails to decrypt.
            attacker.sendRaw(record)
            return attacker.isClosedByServer(within: 10_000)
        }
        #expect(closed)
        try await expectHonestUnharmed(fixture, before: before)
        let lines = try await fixture.waitForOffenderLines(kind: "noise-session", source: "127.0.0.92")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("machine.key=") == true)
    }

    @Test func replayedInitiationGainsNothing() async throws {
        let fixture = try AttackServerFixture()
        let before = try fixture.storedNodes()
        let outcome = try await offPool { () -> (status: Int, closed: Bool) in
            let victim = try fixture.client(from: "127.0.0.93")
            // An eavesdropper replays the victim's initiation on a connection of its own. The
            // handshake has no replay check, so the server responds, but without the victim's
            // ephemeral key the replayer cannot derive the session keys: its records fail.
            let replay = try RawConnection(port: fixture.port, source: "127.0.0.93")
            replay.send(AttackNoiseClient.upgradeHead(port: fixture.port, initiation: victim.initiation))
            let status = try replay.readStatus()
            replay.send([NoiseFrame.recordType, 0x00, 0x20] + (0..<32).map { _ in UInt8.random(in: 0...255) })
            return (status, replay.isClosedByServer(within: 10_000))
        }
        #expect(outcome.status == 101)
        #expect(outcome.closed)
        try await expectHonestUnharmed(fixture, before: before)
        #expect(try await fixture.waitForOffenderLines(kind: "noise-session", source: "127.0.0.93").count == 1)
    }

    @Test func wrongUpgradeProtocolGets400() async throws {
        let fixture = try AttackServerFixture()
        let before = try fixture.storedNodes()
        let statuses = try await offPool { () -> [Int] in
            let initiation = try NoiseInitiator(
                machineKey: Curve25519PrivateKey(),
                serverPublicKey: fixture.serverKey,
                protocolVersion: 130
            ).initiation
            return try (0..<3).map { _ in
                let attacker = try RawConnection(port: fixture.port, source: "127.0.0.94")
                attacker.send(
                    AttackNoiseClient.upgradeHead(port: fixture.port, initiation: initiation, upgrade: "websocket")
                )
                return try attacker.readStatus()
            }
        }
        #expect(statuses == [400, 400, 400])
        try await expectHonestUnharmed(fixture, before: before)
        #expect(try await fixture.waitForOffenderLines(kind: "noise-upgrade", source: "127.0.0.94").count == 1)
    }

    @Test func wrongInitiationVersionGets400() async throws {
        let fixture = try AttackServerFixture()
        let before = try fixture.storedNodes()
        let statuses = try await offPool { () -> [Int] in
            var tampered: [[UInt8]] = []
            for change in [(0, UInt8(0x01)), (1, UInt8(0x01)), (2, UInt8(0x02))] {
                // Bytes 0-1 are the protocol version the prologue covers; byte 2 is the frame type.
                var initiation = try NoiseInitiator(
                    machineKey: Curve25519PrivateKey(),
                    serverPublicKey: fixture.serverKey,
                    protocolVersion: 130
                ).initiation
                initiation[change.0] = change.1
                tampered.append(initiation)
            }
            return try tampered.map { initiation in
                let attacker = try RawConnection(port: fixture.port, source: "127.0.0.95")
                attacker.send(AttackNoiseClient.upgradeHead(port: fixture.port, initiation: initiation))
                return try attacker.readStatus()
            }
        }
        #expect(statuses == [400, 400, 400])
        try await expectHonestUnharmed(fixture, before: before)
        #expect(try await fixture.waitForOffenderLines(kind: "noise-handshake", source: "127.0.0.95").count == 1)
    }

    @Test func tooOldVersionGetsErrorFrame() async throws {
        let fixture = try AttackServerFixture()
        let before = try fixture.storedNodes()
        let reply = try await offPool { () -> (status: Int, frame: [UInt8]) in
            let initiation = try NoiseInitiator(
                machineKey: Curve25519PrivateKey(),
                serverPublicKey: fixture.serverKey,
                protocolVersion: 50
            ).initiation
            let old = try RawConnection(port: fixture.port, source: "127.0.0.96")
            old.send(AttackNoiseClient.upgradeHead(port: fixture.port, initiation: initiation))
            let status = try old.readStatus()
            return (status, old.readUntilClose())
        }
        #expect(reply.status == 101)
        #expect(reply.frame.first == NoiseFrame.errorType)
        #expect(String(decoding: reply.frame.dropFirst(3), as: UTF8.self).contains("too old"))
        try await expectHonestUnharmed(fixture, before: before)
    }
}

/// Checks that the honest node is still served and the stored nodes equal `before`.
func expectHonestUnharmed(
    _ fixture: AttackServerFixture,
    before: [String],
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let failure = try await offPool { try fixture.honestStillServed() }
    #expect(failure == nil, sourceLocation: sourceLocation)
    #expect(try fixture.storedNodes() == before, sourceLocation: sourceLocation)
}

/// A plain TCP connection from a chosen source for hand-made upgrade requests.
final class RawConnection {
    let fd: Int32
    private var inbound: [UInt8] = []

    init(port: UInt16, source: String) throws {
        fd = try connectSocket(port: port, source: source)
    }

    deinit {
        Glibc.close(fd)
    }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads one response head and returns its status code; the bytes after the head stay buffered.
    func readStatus() throws -> Int {
        let separator = Array("\r\n\r\n".utf8)
        var chunk = [UInt8](repeating: 0, count: 4096)
        while inbound.firstRange(of: separator) == nil {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw FixtureError("connection closed before a response head") }
            inbound += chunk[..<count]
        }
        let end = inbound.firstRange(of: separator)!.upperBound
        let parts = String(decoding: inbound[..<end], as: UTF8.self).split(separator: " ")
        inbound.removeFirst(end)
        return parts.count > 1 ? Int(parts[1]) ?? 0 : 0
    }

    /// Returns the buffered bytes plus everything until the server closes or the timeout passes.
    func readUntilClose() -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return inbound }
            inbound += chunk[..<count]
        }
    }

    func isClosedByServer(within milliseconds: Int32) -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(milliseconds))
        var chunk = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 200) > 0 else { continue }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count == 0 || (count < 0 && errno != EAGAIN) { return true }
        }
        return false
    }
}
