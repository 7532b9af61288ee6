import Testing

@testable import HSConfig

@Suite struct ValueSyntaxTests {
    @Test func goDurationsParse() {
        let cases: [(String, Duration)] = [
            ("0", .zero), ("10s", .seconds(10)), ("30m", .seconds(1800)), ("1h30m", .seconds(5400)),
            ("1.5h", .seconds(5400)), ("250ms", .milliseconds(250)), ("2h45m10s", .seconds(9910)), ("+5s", .seconds(5)),
            ("100us", .microseconds(100)), ("7ns", .nanoseconds(7)),
        ]
        for (text, expected) in cases {
            #expect(ValueSyntax.duration(text, allowDays: false) == expected, "\(text)")
        }
    }

    @Test func badDurationsFail() {
        for text in ["", "10", "-5s", "1d", "h", "1.2.3s", "5 m", "10sec", "1e3s"] {
            #expect(ValueSyntax.duration(text, allowDays: false) == nil, "\(text)")
        }
    }

    @Test func dayUnitsNeedPermission() {
        #expect(ValueSyntax.duration("180d", allowDays: true) == .seconds(180 * 86_400))
        #expect(ValueSyntax.duration("1w2d", allowDays: true) == .seconds(9 * 86_400))
        #expect(ValueSyntax.duration("1y", allowDays: true) == .seconds(365 * 86_400))
        #expect(ValueSyntax.duration("180d", allowDays: false) == nil)
    }

    @Test func prefixesParse() {
        #expect(ValueSyntax.prefix("100.64.0.0/10", byteCount: 4) == .valid("100.64.0.0/10"))
        #expect(ValueSyntax.prefix("100.64.0.1/10", byteCount: 4) == .hostBitsSet(canonical: "100.64.0.0/10"))
        #expect(ValueSyntax.prefix("fd7a:115c:a1e0:0::/48", byteCount: 16) == .valid("fd7a:115c:a1e0::/48"))
        for bad in ["100.64.0.0/33", "100.64.0.0", "100.64.0/10", "fd7a::/48", "100.64.0.0/-1", "100.64.0.0/1x"] {
            #expect(ValueSyntax.prefix(bad, byteCount: 4) == .invalid, "\(bad)")
        }
    }

    @Test func hostPortsCheck() {
        for good in ["127.0.0.1:8080", ":8080", "[::]:443", "localhost:1", "hs.example.com:65535"] {
            #expect(ValueSyntax.isHostPort(good), "\(good)")
        }
        for bad in ["127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "::1:80", "[::1]", "host:http", "bad host:80"] {
            #expect(!ValueSyntax.isHostPort(bad), "\(bad)")
        }
    }

    @Test func octalModesParse() {
        #expect(ValueSyntax.octalMode("0770") == 0o770)
        #expect(ValueSyntax.octalMode("770") == 0o770)
        #expect(ValueSyntax.octalMode("0o700") == 0o700)
        for bad in ["", "0778", "1777", "rwx", "0x1ff"] {
            #expect(ValueSyntax.octalMode(bad) == nil, "\(bad)")
        }
    }
}
