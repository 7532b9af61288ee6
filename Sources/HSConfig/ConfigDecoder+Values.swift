import Foundation

/// Typed accessors: each returns `fallback` after recording a problem, so decoding always finishes.
extension ConfigDecoder {
    mutating func string(_ path: String, default fallback: String) -> String {
        scalar(path)?.text ?? fallback
    }

    /// Reads a YAML boolean: true/false, and the YAML 1.1 forms yes/no/on/off that Headscale's parser also takes.
    mutating func bool(_ path: String, default fallback: Bool) -> Bool {
        guard let value = scalar(path) else { return fallback }
        switch value.text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            invalid(path, value, "is not a boolean; use true or false")
            return fallback
        }
    }

    mutating func int(_ path: String, default fallback: Int, range: ClosedRange<Int>) -> Int {
        guard let value = scalar(path) else { return fallback }
        guard let number = Int(value.text), range.contains(number) else {
            invalid(path, value, "is not a whole number from \(range.lowerBound) to \(range.upperBound)")
            return fallback
        }
        return number
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(_ path: String, default fallback: T) -> T
    where T.RawValue == String {
        guard let value = scalar(path) else { return fallback }
        guard let choice = T(rawValue: value.text.lowercased()) else {
            let names = T.allCases.map(\.rawValue).joined(separator: ", ")
            invalid(path, value, "is not one of the accepted values; use one of: \(names)")
            return fallback
        }
        return choice
    }

    /// Reads a Go duration (`30m`, `1h30m`); `allowDays` also accepts `d`, `w` and `y` units.
    mutating func duration(_ path: String, default fallback: Duration, allowDays: Bool = false) -> Duration {
        guard let value = scalar(path) else { return fallback }
        guard let duration = ValueSyntax.duration(value.text, allowDays: allowDays) else {
            let units = allowDays ? "s, m, h, d, w or y" : "ms, s, m or h"
            invalid(path, value, "is not a valid duration; use a number with a unit (\(units)), such as 30m or 1h30m")
            return fallback
        }
        return duration
    }

    /// Reads `host:port`; nil when absent, and also when empty if `emptyMeansNone`.
    mutating func hostPort(_ path: String, example: String, emptyMeansNone: Bool = false) -> String? {
        guard let value = scalar(path) else { return nil }
        if emptyMeansNone, value.text.isEmpty { return nil }
        guard ValueSyntax.isHostPort(value.text) else {
            invalid(path, value, "is not a valid host:port; use an address and port such as \(example)")
            return nil
        }
        return value.text
    }

    /// Reads an IP address of one family (4 or 16 bytes); nil when absent or empty.
    mutating func ipAddress(_ path: String, byteCount: Int) -> String? {
        guard let value = scalar(path), !value.text.isEmpty else { return nil }
        guard let bytes = ValueSyntax.ipBytes(value.text), bytes.count == byteCount else {
            let example = byteCount == 4 ? "IPv4 address such as 198.51.100.1" : "IPv6 address such as 2001:db8::1"
            invalid(path, value, "is not a valid \(byteCount == 4 ? "IPv4" : "IPv6") address; use an \(example)")
            return nil
        }
        return ValueSyntax.format(bytes)
    }

    /// Reads a CIDR prefix of one family in canonical form; nil when absent.
    mutating func prefix(_ path: String, byteCount: Int) -> String? {
        guard let value = scalar(path), !value.text.isEmpty else { return nil }
        let name = byteCount == 4 ? "IPv4" : "IPv6"
        let example = byteCount == 4 ? "100.64.0.0/10" : "fd7a:115c:a1e0::/48"
        switch ValueSyntax.prefix(value.text, byteCount: byteCount) {
        case .valid(let canonical):
            return canonical
        case .hostBitsSet(let canonical):
            invalid(path, value, "has bits set after the prefix length; use \(canonical)")
        case .invalid:
            invalid(path, value, "is not a valid \(name) prefix; use a CIDR such as \(example)")
        }
        return nil
    }

    /// Reads an HTTP(S) URL; nil when absent.
    mutating func httpURL(_ path: String, example: String) -> String? {
        guard let value = scalar(path) else { return nil }
        guard ValueSyntax.httpURL(value.text) != nil else {
            invalid(path, value, "is not a valid http:// or https:// URL; use a URL such as \(example)")
            return nil
        }
        return value.text
    }

    /// Reads a file path, substituting the state directory placeholder and resolving relative paths against the
    /// config file's folder; nil when absent or empty.
    mutating func filePath(_ path: String) -> String? {
        guard let value = scalar(path), !value.text.isEmpty else { return nil }
        return resolve(value.text)
    }

    /// Substitutes the state directory placeholder in `text` and makes it absolute.
    func resolve(_ text: String) -> String {
        let substituted = text.replacingOccurrences(of: ConfigLoader.stateDirectoryPlaceholder, with: stateDirectory)
        let absolute = substituted.hasPrefix("/") ? substituted : baseFolder + "/" + substituted
        return (absolute as NSString).standardizingPath
    }

    /// Reads an octal file mode given as text, such as "0770".
    mutating func octalMode(_ path: String, default fallback: UInt32) -> UInt32 {
        guard let value = scalar(path) else { return fallback }
        guard let mode = ValueSyntax.octalMode(value.text) else {
            invalid(path, value, "is not an octal file mode; use a quoted value such as \"0770\"")
            return fallback
        }
        return mode
    }
}
