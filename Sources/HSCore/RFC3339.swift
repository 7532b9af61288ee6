#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// RFC 3339 times in UTC, as Go's `time.Time` writes them in JSON.
public enum RFC3339 {
    /// Go's zero time, which Tailscale reads as "no time" (for example "never expires").
    public static let zero = "0001-01-01T00:00:00Z"

    /// Formats `date` in UTC with up to nine fraction digits, trailing zeros removed (Go's RFC3339Nano).
    public static func format(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = time_t(interval.rounded(.down))
        var nanos = Int(((interval - Double(seconds)) * 1e9).rounded())
        if nanos >= 1_000_000_000 {
            seconds += 1
            nanos -= 1_000_000_000
        }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d",
            parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec
        )
        if nanos > 0 {
            var fraction = String(format: "%09d", nanos)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + "Z"
    }

    /// Parses an RFC 3339 time with an optional fraction and a `Z` or `±hh:mm` offset.
    public static func parse(_ text: String) -> Date? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 20 else { return nil }
        func number(_ start: Int, _ length: Int) -> Int? {
            var value = 0
            for index in start..<(start + length) {
                let digit = Int(utf8[index]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0, 4), utf8[4] == UInt8(ascii: "-"), let month = number(5, 2),
            utf8[7] == UInt8(ascii: "-"), let day = number(8, 2),
            utf8[10] == UInt8(ascii: "T") || utf8[10] == UInt8(ascii: "t"),
            let hour = number(11, 2), utf8[13] == UInt8(ascii: ":"), let minute = number(14, 2),
            utf8[16] == UInt8(ascii: ":"), let second = number(17, 2)
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < utf8.count, utf8[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            while index < utf8.count, (48...57).contains(utf8[index]) {
                fraction += Double(utf8[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        guard index < utf8.count else { return nil }
        var offset = 0
        if utf8[index] == UInt8(ascii: "Z") || utf8[index] == UInt8(ascii: "z") {
            guard index + 1 == utf8.count else { return nil }
        } else {
            guard index + 6 == utf8.count, let offsetHours = number(index + 1, 2),
                let offsetMinutes = number(index + 4, 2)
            else { return nil }
            let sign = utf8[index] == UInt8(ascii: "-") ? -1 : 1
            offset = sign * (offsetHours * 3600 + offsetMinutes * 60)
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let total = Double(days * 86400 + hour * 3600 + minute * 60 + second - offset) + fraction
        return Date(timeIntervalSince1970: total)
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar.
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }
}
