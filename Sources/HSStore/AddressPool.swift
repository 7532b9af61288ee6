import Foundation

/// How the next free address of a prefix is chosen.
public enum AllocationStrategy: String, Sendable, Equatable {
    /// The first free address after the one this store handed out last, wrapping once to the start.
    case sequential
    /// The first free address at or after a random starting point, wrapping once to the start.
    case random
}

/// The prefixes node addresses come from, and how they are picked.
///
/// Never handed out: the network address, the last address of an IPv4 prefix (broadcast), Tailscale's DNS
/// service addresses 100.100.100.100 and fd7a:115c:a1e0::53, and the ChromeOS VM range 100.115.92.0/23.
public struct AddressPool: Sendable, Equatable {
    public let v4: IPPrefix?
    public let v6: IPPrefix?
    public let strategy: AllocationStrategy

    /// Parses the prefixes, such as `100.64.0.0/10` and `fd7a:115c:a1e0::/48`; at least one is required.
    public init(v4Prefix: String?, v6Prefix: String?, strategy: AllocationStrategy = .sequential) throws(StoreError) {
        v4 = try v4Prefix.map { text throws(StoreError) in try IPPrefix.parse(text, family: .v4) }
        v6 = try v6Prefix.map { text throws(StoreError) in try IPPrefix.parse(text, family: .v6) }
        self.strategy = strategy
        guard v4 != nil || v6 != nil else {
            throw StoreError(.invalidArgument, "no address prefix given; set prefixes.v4, prefixes.v6 or both")
        }
    }

    static let reserved: Set<IPAddress> = [
        IPAddress.parse("100.100.100.100")!,
        IPAddress.parse("fd7a:115c:a1e0::53")!,
    ]
    static let chromeOSRange = try! IPPrefix.parse("100.115.92.0/23", family: .v4)
}

/// An IPv4 or IPv6 address held as a 128-bit number (IPv4 in the low 32 bits).
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public enum Family: Sendable { case v4, v6 }

    public let family: Family
    public let value: UInt128

    public init(family: Family, value: UInt128) {
        self.family = family
        self.value = value
    }

    /// Parses dotted IPv4 or RFC 4291 IPv6 text; returns nil for anything else, including zone suffixes.
    public static func parse(_ text: String) -> IPAddress? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return IPAddress(family: .v4, value: UInt128(UInt32(bigEndian: v4.s_addr)))
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let value = withUnsafeBytes(of: &v6) { bytes in bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) } }
        return IPAddress(family: .v6, value: value)
    }

    /// The canonical text: dotted quad, or RFC 5952 IPv6 as `inet_ntop` writes it.
    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch family {
        case .v4:
            var address = in_addr(s_addr: UInt32(truncatingIfNeeded: value).bigEndian)
            inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count))
        case .v6:
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { bytes in
                for index in 0..<16 {
                    bytes[index] = UInt8(truncatingIfNeeded: value >> UInt128(8 * (15 - index)))
                }
            }
            inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A CIDR prefix such as `100.64.0.0/10`; host bits are cleared on parsing.
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible {
    public let network: IPAddress
    public let length: Int

    var bits: Int { network.family == .v4 ? 32 : 128 }
    /// The first address of the prefix.
    var first: UInt128 { network.value }
    /// The last address of the prefix.
    var last: UInt128 { network.value | hostMask }
    var hostMask: UInt128 { length >= bits ? 0 : (UInt128(1) << UInt128(bits - length)) - 1 }

    public var description: String { "\(network)/\(length)" }

    func contains(_ address: IPAddress) -> Bool {
        address.family == network.family && address.value & ~hostMask == network.value
    }

    /// Parses `address/length` of the given family.
    static func parse(_ text: String, family: IPAddress.Family) throws(StoreError) -> IPPrefix {
        let example = family == .v4 ? "100.64.0.0/10" : "fd7a:115c:a1e0::/48"
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress.parse(String(parts[0])), address.family == family,
            let length = Int(parts[1]), length >= 0, length <= (family == .v4 ? 32 : 128)
        else {
            let name = family == .v4 ? "IPv4" : "IPv6"
            throw StoreError(
                .invalidArgument,
                "\"\(text)\" is not a valid \(name) prefix; use a CIDR such as \(example)"
            )
        }
        let bits = family == .v4 ? 32 : 128
        let hostMask: UInt128 = length >= bits ? 0 : (UInt128(1) << UInt128(bits - length)) - 1
        return IPPrefix(network: IPAddress(family: family, value: address.value & ~hostMask), length: length)
    }
}
