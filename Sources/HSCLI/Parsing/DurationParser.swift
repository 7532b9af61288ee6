/// Parses human-readable durations such as `1h`, `90m`, `90d` or `1h30m`.
///
/// Headscale 0.29 reads `--expiration` with Prometheus' `model.ParseDuration`, whose units are
/// `ms`, `s`, `m`, `h`, `d` (24 h), `w` (7 d) and `y` (365 d). Go's `time.ParseDuration` adds
/// fractions (`1.5h`) and `us`/`µs`/`ns`. This parser accepts the union: one or more
/// `<number><unit>` terms in any order, where the number may have a fractional part. The lone
/// string `0` means zero. Signs are rejected, because a negative expiration would create a key
/// that is already expired.
enum DurationParser {
    /// The maximum duration accepted, about 292 years, which is the range of a Go `time.Duration`.
    static let maximumSeconds = Double(Int64.max) / 1e9

    private static let unitSeconds: [(suffix: String, seconds: Double)] = [
        // Longer suffixes first, so that `ms` is not read as `m` followed by garbage.
        ("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("ns", 1e-9),
        ("y", 365 * 86400), ("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1),
    ]

    /// Returns the duration of `text` in seconds.
    /// - Throws: a `CLIError` whose message explains the accepted form, without the flag's name.
    static func seconds(_ text: String) throws(CLIError) -> Double {
        if text == "0" { return 0 }
        guard !text.isEmpty else { throw invalid(text, "it is empty") }
        var rest = Substring(text)
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, let value = Double(number) else {
                throw invalid(text, "expected a number at '\(rest)'")
            }
            rest = rest.dropFirst(number.count)
            guard let unit = unitSeconds.first(where: { rest.hasPrefix($0.suffix) }) else {
                throw invalid(text, "'\(number)' needs a unit (ms, s, m, h, d, w or y)")
            }
            rest = rest.dropFirst(unit.suffix.count)
            total += value * unit.seconds
        }
        guard total <= maximumSeconds else { throw invalid(text, "it is longer than 292 years") }
        return total
    }

    private static func invalid(_ text: String, _ reason: String) -> CLIError {
        .usage("'\(text)' is not a duration: \(reason). Use a form such as 30m, 1h, 24h or 90d.")
    }
}
