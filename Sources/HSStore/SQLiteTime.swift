import Foundation

/// Timestamps as Headscale's SQLite driver writes them: UTC text such as `2026-01-02 15:04:05.123456+00:00`.
///
/// Fractional seconds are written to microseconds with trailing zeros dropped (a `Date` holds no finer
/// precision), never rounding up. Reading also accepts a `T` separator, a `Z` or other `±HH:MM` offset, no offset
/// (UTC), and up to nine fractional digits.
enum SQLiteTime {
    /// Formats `date` in UTC.
    static func format(_ date: Date) -> String {
        var micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        if !micros.isFinite { micros = 0 }
        var totalMicros = Int64(micros)
        // The stored time must not be later than `date`, so "expire now" is expired when checked against the same
        // `now`; `parse` rebuilds the value with the same division.
        // Compare as Dates: Date keeps its value relative to 2001, so converting from a 1970 interval
        // can round up by one unit in the last place.
        while Date(timeIntervalSince1970: Double(totalMicros) / 1_000_000) > date { totalMicros -= 1 }
        var seconds = time_t(totalMicros.floorDiv(1_000_000))
        let fraction = Int(totalMicros - Int64(seconds) * 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = String(
            format: "%04d-%02d-%02d %02d:%02d:%02d",
            Int(parts.tm_year) + 1900,
            Int(parts.tm_mon) + 1,
            Int(parts.tm_mday),
            Int(parts.tm_hour),
            Int(parts.tm_min),
            Int(parts.tm_sec)
        )
        if fraction != 0 {
            var digits = String(format: "%06d", fraction)
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text + "+00:00"
    }

    /// Parses a stored timestamp; returns nil when the text is not one.
    static func parse(_ text: String) -> Date? {
        var scanner = Scanner(Array(text.utf8))
        guard let year = scanner.number(digits: 4), scanner.skip("-"),
            let month = scanner.number(digits: 2), scanner.skip("-"),
            let day = scanner.number(digits: 2), scanner.skip(" ") || scanner.skip("T"),
            let hour = scanner.number(digits: 2), scanner.skip(":"),
            let minute = scanner.number(digits: 2), scanner.skip(":"),
            let second = scanner.number(digits: 2)
        else { return nil }
        var fraction = 0
        var digits = 0
        if scanner.skip(".") {
            guard let (value, count) = scanner.fraction(), count <= 9 else { return nil }
            (fraction, digits) = (value, count)
        }
        guard let offset = scanner.zoneOffset(), scanner.atEnd else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = Int64(timegm(&parts)) - Int64(offset)
        if digits <= 6 {
            let micros = seconds * 1_000_000 + Int64(fraction) * Int64(pow(10, Double(6 - digits)))
            return Date(timeIntervalSince1970: Double(micros) / 1_000_000)
        }
        return Date(timeIntervalSince1970: Double(seconds) + Double(fraction) / pow(10, Double(digits)))
    }

    /// A cursor over ASCII bytes for ``parse(_:)``.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index == bytes.count }

        mutating func skip(_ char: Character) -> Bool {
            guard index < bytes.count, bytes[index] == char.asciiValue else { return false }
            index += 1
            return true
        }

        mutating func number(digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + digits] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += digits
            return value
        }

        mutating func fraction() -> (Int, Int)? {
            var value = 0
            var count = 0
            while index < bytes.count, (48...57).contains(bytes[index]), count < 10 {
                value = value * 10 + Int(bytes[index] - 48)
                count += 1
                index += 1
            }
            return count == 0 ? nil : (value, count)
        }

        /// Reads `Z`, `±HH:MM` or nothing; returns the offset east of UTC in seconds.
        mutating func zoneOffset() -> Int? {
            if atEnd { return 0 }
            if skip("Z") { return 0 }
            let sign: Int
            if skip("+") {
                sign = 1
            } else if skip("-") {
                sign = -1
            } else {
                return nil
            }
            guard let hours = number(digits: 2), skip(":"), let minutes = number(digits: 2) else { return nil }
            return sign * (hours * 3600 + minutes * 60)
        }
    }
}

extension Int64 {
    /// Division rounding toward negative infinity, so times before 1970 split into seconds correctly.
    fileprivate func floorDiv(_ divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
