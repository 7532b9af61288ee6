/// An IPv4 or IPv6 address as a 128-bit number plus its family.
///
/// IPv4 addresses use the low 32 bits. Addresses of different families never compare equal, and
/// every IPv4 address sorts before every IPv6 address.
public struct IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let isIPv6: Bool
    public let value: UInt128

    public init(ipv4 value: UInt32) {
        isIPv6 = false
        self.value = UInt128(value)
    }

    public init(ipv6 value: UInt128) {
        isIPv6 = true
        self.value = value
    }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (with `::` and an optional trailing dotted quad).
    /// Zone suffixes (`%eth0`) are rejected.
    public init?(_ text: some StringProtocol) {
        if text.contains(":") {
            guard let value = IPAddress.parseIPv6(Substring(text)) else { return nil }
            self.init(ipv6: value)
        } else {
            guard let value = IPAddress.parseIPv4(Substring(text)) else { return nil }
            self.init(ipv4: value)
        }
    }

    /// The number of bits in an address of this family.
    public var bitWidth: Int { isIPv6 ? 128 : 32 }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.isIPv6 != rhs.isIPv6 { return !lhs.isIPv6 }
        return lhs.value < rhs.value
    }

    /// Dotted quad for IPv4; RFC 5952 canonical form (lowercase, longest zero run compressed) for IPv6.
    public var description: String {
        isIPv6 ? IPAddress.formatIPv6(value) : IPAddress.formatIPv4(UInt32(value))
    }

    static func parseIPv4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let octet = UInt8(part) else {
                return nil
            }
            if part.count > 1 && part.first == "0" { return nil }
            value = value << 8 | UInt32(octet)
        }
        return value
    }

    static func parseIPv6(_ text: Substring) -> UInt128? {
        var groups: [UInt16] = []
        var tailStart: Int? = nil
        let halves = splitOnDoubleColon(text)
        guard halves.count <= 2 else { return nil }
        for (half, part) in halves.enumerated() {
            if half == 1 { tailStart = groups.count }
            if part.isEmpty { continue }
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (position, field) in fields.enumerated() {
                if position == fields.count - 1 && field.contains(".") {
                    guard let v4 = parseIPv4(field) else { return nil }
                    groups.append(UInt16(v4 >> 16))
                    groups.append(UInt16(v4 & 0xFFFF))
                    continue
                }
                guard (1...4).contains(field.count), field.allSatisfy(\.isHexDigit),
                    let group = UInt16(field, radix: 16)
                else { return nil }
                groups.append(group)
            }
        }
        if let tailStart {
            guard groups.count < 8 else { return nil }
            groups.insert(contentsOf: Array(repeating: 0, count: 8 - groups.count), at: tailStart)
        }
        guard groups.count == 8 else { return nil }
        return groups.reduce(UInt128(0)) { $0 << 16 | UInt128($1) }
    }

    private static func splitOnDoubleColon(_ text: Substring) -> [Substring] {
        var parts: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(after: index)
            if text[index] == ":" && next < text.endIndex && text[next] == ":" {
                parts.append(text[start..<index])
                start = text.index(after: next)
                index = start
                continue
            }
            index = next
        }
        parts.append(text[start...])
        return parts
    }

    static func formatIPv4(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    static func formatIPv6(_ value: UInt128) -> String {
        let groups = (0..<8).map { UInt16(truncatingIfNeeded: value >> (112 - 16 * $0)) }
        var bestStart = -1
        var bestLength = 1
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            var end = index
            while end < 8 && groups[end] == 0 { end += 1 }
            if end - index > bestLength {
                bestStart = index
                bestLength = end - index
            }
            index = end
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard bestStart >= 0 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}
