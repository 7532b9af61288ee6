import Foundation
import HSCore
import Testing

/// HTTP/2 abuse inside an authenticated Noise session on the real main listener, each attacker
/// from its own 127.0.0.x address. Every test checks the abuse is stopped at the stream or the
/// connection, the honest node still registers and gets a map, and the stored nodes are unchanged.
/// Attacks that end the connection also leave one warning naming the attacker.
@Suite struct AttackHTTP2Tests {
    static let goAway = RawHTTP2.FrameType.goAway.rawValue
    static let rstStream = RawHTTP2.FrameType.rstStream.rawValue

    /// Sends `count` requests on `client`, each cancelled at once with RST_STREAM, starting at stream 1.
    static func sendResets(_ client: AttackNoiseClient, count: Int) throws {
        var batch: [UInt8] = []
        for index in 0..<count {
            let stream = UInt32(2 * index + 1)
            let block = RawHTTP2.requestBlock(path: "/machine/register")
            batch += RawHTTP2.frame(.headers, flags: RawHTTP2.endHeaders, stream: stream, block)
            batch += RawHTTP2.rstStream(stream)
            if batch.count > 32_000 {
                try client.sendSealed(batch)
                batch = []
            }
        }
        try client.sendSealed(batch)
    }

    @Test func rapidResetEndsConnection() async throws {
        let fixture = try AttackServerFixture()
        let before = try fixture.storedNodes()
        let outcome = try await offPool { () -> (modestAnswered: Bool, goAway: Bool, closed: Bool) in
            // 100 cancelled requests are within what a busy honest client may do: the session lives.
            let modest = try fixture.client(from: "127.0.0.99")
            try modest.startRawHTTP2()
            try Self.sendResets(modest, count: 100)
            let flags = RawHTTP2.endHeaders | RawHTTP2.endStream
            try modest.sendSealed(
                RawHTTP2.frame(.headers, flags: flags, stream: 201, RawHTTP2.requestBlock(path: "/machine/unknown"))
            )
            let answered = modest.readFrames { type, stream, _ in type == 0x1 && stream == 201 }.stopped
            // 5,000 cancelled requests: the server does the work of each, the client almost none.
            let attacker = try fixture.client(from: "127.0.0.100")
            try attacker.startRawHTTP2()
            try Self.sendResets(attacker, count: 5000)
            let frames = attacker.readFrames { type, _, _ in type == Self.goAway }
            return (answered, frames.types.contains(Self.goAway), attacker.isClosedByServer(within: 10_000))
        }
        #expect(outcome.modestAnswered)
        #expect(outcome.goAway)
        #expect(outcome.closed)
        try await expectHonestUnharmed(fixture, before: before)
        let lines = try await fixture.waitForOffenderLines(kind: "noise-session", source: "127.0.0.100")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("GOAWAY") == true)
        #expect(fixture.offenderLines(kind: "noise-session", source: "127.0.0.99").isEmpty)
    }

    @Test func hpackBombResetsStream() async throws {
        let fixture = try AttackServerFixture()
        let before = try fixture.storedNodes()
        let outcome = try await offPool { () -> (reset: Bool, stillServed: Bool) in
            let attacker = try fixture.client(from: "127.0.0.101")
            try attacker.startRawHTTP2()
            // One 4 KiB entry enters the dynamic table, then 1,000 one-byte references repeat it:
            // about 5 KiB on the wire for a 4 MiB header list.
            let value = String(repeating: "a", count: 4000)
            let block = RawHTTP2.requestBlock(
                path: "/machine/register",
                extra: RawHTTP2.indexedLiteral("x-bomb", value) + (0..<1000).flatMap { _ in RawHTTP2.indexed(62) }
            )
            let flags = RawHTTP2.endHeaders | RawHTTP2.endStream
            try attacker.sendSealed(RawHTTP2.frame(.headers, flags: flags, stream: 1, block))
            let frames = attacker.readFrames { type, stream, _ in
                (type == Self.rstStream && stream == 1) || type == Self.goAway
            }
            // The session survives a reset stream; a normal request on it still gets a response.
            let block2 = RawHTTP2.requestBlock(path: "/machine/unknown")
            try attacker.sendSealed(RawHTTP2.frame(.headers, flags: flags, stream: 3, block2))
            let next = attacker.readFrames { type, stream, _ in type == 0x1 && stream == 3 }
            return (frames.stopped && frames.types.last == Self.rstStream, next.stopped)
        }
        #expect(outcome.reset)
        #expect(outcome.stillServed)
        let lines = try await fixture.waitForOffenderLines(kind: "http2-stream", source: "127.0.0.101")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("stream reset with") == true)
        try await expectHonestUnharmed(fixture, before: before)
    }

    @Test func windowUpdateOverflowEndsConnection() async throws {
        let fixture = try AttackServerFixture()
        let before = try fixture.storedNodes()
        let outcome = try await offPool { () -> (goAway: Bool, closed: Bool) in
            let attacker = try fixture.client(from: "127.0.0.102")
            try attacker.startRawHTTP2()
            // 20,000 tiny WINDOW_UPDATEs are legal; the last one pushes the window past 2^31-1.
            var batch: [UInt8] = []
            for _ in 0..<20_000 {
                batch += RawHTTP2.windowUpdate(0, increment: 1)
                if batch.count > 32_000 {
                    try attacker.sendSealed(batch)
                    batch = []
                }
            }
            batch += RawHTTP2.windowUpdate(0, increment: 0x7FFF_FFFF)
            try attacker.sendSealed(batch)
            let frames = attacker.readFrames { type, _, _ in type == Self.goAway }
            return (frames.types.contains(Self.goAway), attacker.isClosedByServer(within: 10_000))
        }
        #expect(outcome.goAway)
        #expect(outcome.closed)
        try await expectHonestUnharmed(fixture, before: before)
        let lines = try await fixture.waitForOffenderLines(kind: "noise-session", source: "127.0.0.102")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("GOAWAY") == true)
    }

    @Test func settingsFloodEndsConnection() async throws {
        let fixture = try AttackServerFixture()
        let before = try fixture.storedNodes()
        let outcome = try await offPool { () -> (acks: Int, closed: Bool) in
            let attacker = try fixture.client(from: "127.0.0.103")
            try attacker.startRawHTTP2()
            // 20,000 SETTINGS frames, each of which the server must acknowledge.
            var batch: [UInt8] = []
            for index in 0..<20_000 {
                batch += RawHTTP2.settings([(0x4, UInt32(65_535 + index % 7))])
                if batch.count > 32_000 {
                    try attacker.sendSealed(batch)
                    batch = []
                }
            }
            try attacker.sendSealed(batch)
            var acks = 0
            let frames = attacker.readFrames { type, _, _ in
                if type == RawHTTP2.FrameType.settings.rawValue { acks += 1 }
                return type == Self.goAway
            }
            return (acks, frames.closed || attacker.isClosedByServer(within: 10_000))
        }
        // nghttp2 ends a session once too many acknowledgements wait to be sent.
        #expect(outcome.closed)
        #expect(outcome.acks < 20_000)
        try await expectHonestUnharmed(fixture, before: before)
        #expect(try await fixture.waitForOffenderLines(kind: "noise-session", source: "127.0.0.103").count == 1)
    }

    @Test func excessStreamsRefused() async throws {
        let fixture = try AttackServerFixture()
        let before = try fixture.storedNodes()
        let refused = try await offPool { () -> Int in
            let attacker = try fixture.client(from: "127.0.0.104")
            try attacker.startRawHTTP2()
            // 150 requests whose bodies never come hold their streams open; the limit is 100.
            var batch: [UInt8] = []
            for index in 0..<150 {
                let block = RawHTTP2.requestBlock(path: "/machine/register")
                batch += RawHTTP2.frame(.headers, flags: RawHTTP2.endHeaders, stream: UInt32(2 * index + 1), block)
            }
            try attacker.sendSealed(batch)
            var refusals = 0
            _ = attacker.readFrames(timeout: .seconds(10)) { type, _, payload in
                // REFUSED_STREAM is error code 7.
                if type == Self.rstStream, payload == RawHTTP2.bigEndian(7) { refusals += 1 }
                return refusals >= 50
            }
            return refusals
        }
        #expect(refused == 50)
        // Fifty refusals within the rate limit's interval make one line.
        let lines = try await fixture.waitForOffenderLines(kind: "http2-stream", source: "127.0.0.104")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("REFUSED_STREAM") == true)
        try await expectHonestUnharmed(fixture, before: before)
    }
}
