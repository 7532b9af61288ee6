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
