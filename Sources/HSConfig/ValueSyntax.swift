import Foundation

/// Parsers for the value formats used in the configuration. Each returns nil for invalid text.
enum ValueSyntax {
    /// Parses a Go duration such as `30m`, `1h30m`, `1.5s` or `0`; with `allowDays`, also the Prometheus units
    /// `d` (24h), `w` (7d) and `y` (365d), as `node.expiry` uses. Negative durations are invalid.
    static func duration(_ text: String, allowDays: Bool) -> Duration? {
        if text == "0" { return .zero }
        var units: [String: Double] = [
            "ns": 1, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9,
        ]
        if allowDays {
            units["d"] = 86_400e9
            units["w"] = 7 * 86_400e9
            units["y"] = 365 * 86_400e9
        }
        var rest = Substring(text.hasPrefix("+") ? String(text.dropFirst()) : text)
        guard !rest.isEmpty else { return nil }
        var nanoseconds = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", number.filter({ $0 == "." }).count <= 1,
                let value = Double(number.hasPrefix(".") ? "0" + number : String(number))
            else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard let scale = units[String(unit)] else { return nil }
            rest = rest.dropFirst(unit.count)
            nanoseconds += value * scale
        }
        guard nanoseconds < Double(Int64.max) else { return nil }
        return .nanoseconds(Int64(nanoseconds))
    }

    /// Parses an IPv4 (dotted quad) or IPv6 address into its bytes: 4 or 16 of them.
    static func ipBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    /// A prefix in canonical text, or why the text is not one.
    enum PrefixResult: Equatable {
        case valid(String)
        case hostBitsSet(canonical: String)
        case invalid
    }

    /// Parses `address/length` of one family (4 or 16 address bytes).
    static func prefix(_ text: String, byteCount: Int) -> PrefixResult {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let bytes = ipBytes(String(parts[0])), bytes.count == byteCount,
            parts[1].allSatisfy(\.isASCII), let length = Int(parts[1]), (0...(byteCount * 8)).contains(length)
        else { return .invalid }
        let network = masked(bytes, length: length)
        let hostBits = network != bytes
        let canonical = format(network) + "/\(length)"
        return hostBits ? .hostBitsSet(canonical: canonical) : .valid(canonical)
    }

    /// Returns `bytes` with every bit after the first `length` cleared.
    static func masked(_ bytes: [UInt8], length: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let keep = max(0, min(8, length - index * 8))
            return keep == 0 ? 0 : byte & UInt8(truncatingIfNeeded: 0xff << (8 - keep))
        }
    }

    /// Formats 4 or 16 address bytes as canonical text.
    static func format(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        bytes.withUnsafeBytes { raw in
            _ = inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count))
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether `text` is `host:port` with a numeric port 1…65535 and an empty host, a hostname, an IPv4 address or
    /// a bracketed IPv6 address.
    static func isHostPort(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":") else { return false }
        let host = text[..<colon]
        let port = text[text.index(after: colon)...]
        guard !port.isEmpty, port.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(port),
            (1...65535).contains(number)
        else { return false }
        if host.isEmpty { return true }
        if host.hasPrefix("[") {
            guard host.hasSuffix("]") else { return false }
            return ipBytes(String(host.dropFirst().dropLast()))?.count == 16
        }
        return ipBytes(String(host))?.count == 4 || isDomainName(String(host))
    }

    /// Whether `text` is a DNS name without a trailing dot: labels of 1 to 63 letters, digits and inner hyphens
    /// (underscores allowed), 253 bytes at most.
    static func isDomainName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        }
    }

    /// Parses an HTTP or HTTPS URL with a host; returns its components.
    static func httpURL(_ text: String) -> URLComponents? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { return nil }
        return components
    }

    /// Parses an octal file mode such as `0770`, `770` or `0o770`, at most 0o777.
    static func octalMode(_ text: String) -> UInt32? {
        var digits = Substring(text)
        if digits.hasPrefix("0o") || digits.hasPrefix("0O") { digits = digits.dropFirst(2) }
        guard !digits.isEmpty, digits.count <= 4, digits.allSatisfy({ ("0"..."7").contains($0) }),
            let mode = UInt32(digits, radix: 8), mode <= 0o777
        else { return nil }
        return mode
    }
}
