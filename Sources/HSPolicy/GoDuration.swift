/// Durations in the text form Go's `time` package reads and writes (`90s`, `1h30m`, `168h0m0s`),
/// because Headscale's check periods and their error messages use that form.
enum GoDuration {
    private static let units: [(String, Double)] = [
        ("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
    ]

    /// Parses `text` into nanoseconds.
    static func parse(_ text: String) throws(PolicyError) -> Int64 {
        let invalid = PolicyError("time: invalid duration \"\(text)\"")
        var rest = Substring(text)
        var sign: Double = 1
        if rest.hasPrefix("-") || rest.hasPrefix("+") {
            sign = rest.hasPrefix("-") ? -1 : 1
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { throw invalid }
        var total: Double = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", let value = Double(number) else { throw invalid }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard let unit = units.first(where: { $0.0 == unitText }) else { throw invalid }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
        }
        guard total <= Double(Int64.max) else { throw invalid }
        return Int64(sign * total)
    }

    /// Formats nanoseconds like Go's `Duration.String` for whole-second values (`-1m0s`, `168h0m1s`).
    static func format(_ nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        let sign = nanoseconds < 0 ? "-" : ""
        let magnitude = nanoseconds.magnitude
        if magnitude < 1_000_000_000 {
            if magnitude % 1_000_000 == 0 { return "\(sign)\(magnitude / 1_000_000)ms" }
            if magnitude % 1000 == 0 { return "\(sign)\(magnitude / 1000)µs" }
            return "\(sign)\(magnitude)ns"
        }
        let totalSeconds = magnitude / 1_000_000_000
        let fraction = magnitude % 1_000_000_000
        var secondsText = "\(totalSeconds % 60)"
        if fraction > 0 {
            var digits = String(fraction)
            digits = String(repeating: "0", count: 9 - digits.count) + digits
            while digits.hasSuffix("0") { digits.removeLast() }
            secondsText += ".\(digits)"
        }
        let hours = totalSeconds / 3600
        let minutes = totalSeconds / 60 % 60
        if hours > 0 { return "\(sign)\(hours)h\(minutes)m\(secondsText)s" }
        if minutes > 0 { return "\(sign)\(minutes)m\(secondsText)s" }
        return "\(sign)\(secondsText)s"
    }
}
