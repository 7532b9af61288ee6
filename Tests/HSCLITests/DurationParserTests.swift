import Foundation
import Testing

@testable import HSCLI

@Suite struct DurationParserTests {
    static let accepted: [(String, Double)] = [
        ("1h", 3600.0),
        ("90m", 5400),
        ("24h", 86400),
        ("30s", 30),
        ("1h30m", 5400),
        ("90d", 90 * 86400),
        ("2w", 14 * 86400),
        ("1y", 365 * 86400),
        ("1d12h", 36 * 3600),
        ("1.5h", 5400),
        ("500ms", 0.5),
        ("0", 0),
    ]

    @Test(arguments: accepted)
    func acceptedDurations(text: String, seconds: Double) throws {
        #expect(try DurationParser.seconds(text) == seconds)
    }

    @Test(arguments: ["", "h", "1", "-1h", "1x", "1h ", "1 h", "abc", "1mo", "1.2.3h", "300y"])
    func rejectedDurations(text: String) {
        #expect(throws: CLIError.self) { try DurationParser.seconds(text) }
    }

    @Test func errorNamesValue() {
        do {
            _ = try DurationParser.seconds("5x")
            Issue.record("5x parsed")
        } catch {
            #expect(error.kind == .usage)
            #expect(error.message.contains("'5x'"))
            #expect(error.message.contains("30m"))
        }
    }
}

@Suite struct TimestampTests {
    @Test func parsesAndFormats() throws {
        let date = try #require(Timestamp.parse("2026-01-02T03:04:05Z"))
        #expect(date.timeIntervalSince1970 == 1_767_323_045)
        #expect(Timestamp.table(date) == "2026-01-02 03:04:05")
        #expect(Timestamp.rfc3339(date) == "2026-01-02T03:04:05.000Z")
    }

    @Test func fractionsAndOffsets() throws {
        let date = try #require(Timestamp.parse("2026-01-02T05:04:05.250+02:00"))
        #expect(date.timeIntervalSince1970 == 1_767_323_045.25)
        #expect(Timestamp.rfc3339(date) == "2026-01-02T03:04:05.250Z")
        let nanos = try #require(Timestamp.parse("2026-01-02T03:04:05.123456789Z"))
        #expect(Timestamp.table(nanos) == "2026-01-02 03:04:05")
    }

    @Test func goZeroTime() throws {
        let zero = try #require(Timestamp.parse("0001-01-01T00:00:00Z"))
        #expect(zero.timeIntervalSince1970 == -62_135_596_800)
        #expect(Timestamp.table(zero) == "0001-01-01 00:00:00")
    }

    @Test(arguments: [
        "", "2026-01-02", "2026-01-02 03:04:05Z", "2026-13-02T03:04:05Z", "2026-01-02T03:04:05", "<timestamp>",
    ])
    func rejectsMalformed(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    @Test func civilDaysRoundTrip() {
        for days in stride(from: -800_000, through: 800_000, by: 997) {
            let (year, month, day) = Timestamp.civilFromDays(days)
            #expect(Timestamp.daysFromCivil(year: year, month: month, day: day) == days)
        }
    }
}
