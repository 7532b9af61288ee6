import Foundation
import Testing

@testable import HSStore

@Suite struct SQLiteTimeTests {
    @Test func formatsLikeHeadscale() {
        #expect(SQLiteTime.format(Date(timeIntervalSince1970: 1_790_177_316)) == "2026-09-23 15:28:36+00:00")
        #expect(SQLiteTime.format(Date(timeIntervalSince1970: 1_790_177_316.5)) == "2026-09-23 15:28:36.5+00:00")
        #expect(SQLiteTime.format(Date(timeIntervalSince1970: 1_790_177_316.25)) == "2026-09-23 15:28:36.25+00:00")
        #expect(SQLiteTime.format(Date(timeIntervalSince1970: -1.5)) == "1969-12-31 23:59:58.5+00:00")
    }

    @Test func parsesStoredVariants() throws {
        let base = 1_790_177_316.0
        let cases: [(String, Double)] = [
            ("2026-09-23 15:28:36+00:00", base),
            ("2026-09-23 15:28:36.088806516+00:00", base + 0.088806516),
            ("2026-09-23T15:28:36Z", base),
            ("2026-09-23 15:28:36", base),
            ("2026-09-23 17:28:36+02:00", base),
            ("2026-09-23 13:28:36.5-02:00", base + 0.5),
        ]
        for (text, expected) in cases {
            let date = try #require(SQLiteTime.parse(text), "\(text)")
            #expect(abs(date.timeIntervalSince1970 - expected) < 1e-6, "\(text)")
        }
    }

    @Test func rejectsMalformedText() {
        for text in [
            "", "2026-09-23", "2026-13-01 00:00:00", "2026-09-23 15:28:36 garbage", "2026-09-23 15:28:36.+00:00",
        ] {
            #expect(SQLiteTime.parse(text) == nil, "\(text)")
        }
    }

    @Test func roundTripsToMicroseconds() throws {
        let date = Date(timeIntervalSince1970: 1_790_177_316.123456)
        let parsed = try #require(SQLiteTime.parse(SQLiteTime.format(date)))
        #expect(parsed <= date)
        #expect(date.timeIntervalSince1970 - parsed.timeIntervalSince1970 < 2e-6)
    }
}

@Suite struct SQLiteTimeRoundingTests {
    /// A stored time never reads back later than the time written, so "expire now" is expired
    /// when checked against the same instant.
    @Test func storedTimeNeverLater() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            // Date() keeps its value relative to 2001, so build test dates the same way.
            let seconds = Double.random(in: 600_000_000...900_000_000, using: &generator)
            let date = Date(timeIntervalSinceReferenceDate: seconds)
            let stored = try #require(SQLiteTime.parse(SQLiteTime.format(date)))
            #expect(stored <= date)
            #expect(date.timeIntervalSince(stored) < 0.000_002)
        }
    }
}
