/// A CIDR prefix such as `10.0.0.0/8` or `fd7a:115c:a1e0::/48`, stored with its host bits cleared.
public struct IPPrefix: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let length: Int

    /// Creates the prefix of `length` bits containing `address`; host bits are cleared.
    public init(_ address: IPAddress, length: Int) {
        precondition(length >= 0 && length <= address.bitWidth, "prefix length out of range")
        let mask = IPPrefix.mask(length: length, width: address.bitWidth)
        let masked = address.value & mask
        self.address = address.isIPv6 ? IPAddress(ipv6: masked) : IPAddress(ipv4: UInt32(masked))
        self.length = length
    }

    /// Parses `a.b.c.d/n`, `x::y/n`, or a bare address as a single-address prefix.
    /// Text with host bits set (`10.1.2.3/8`) is accepted and normalised.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        var length = address.bitWidth
        if parts.count == 2 {
            guard parts[1].allSatisfy(\.isASCII), let parsed = Int(parts[1]), (0...address.bitWidth).contains(parsed),
                !(parts[1].count > 1 && parts[1].first == "0")
            else { return nil }
            length = parsed
        }
        self.init(address, length: length)
    }

    static func mask(length: Int, width: Int) -> UInt128 {
        guard length > 0 else { return 0 }
        let all: UInt128 = width == 128 ? ~0 : UInt128(UInt32.max)
        return all & ~((UInt128(1) << (width - length)) - 1) & all
    }

    public var isSingleAddress: Bool { length == address.bitWidth }

    /// The last address inside the prefix.
    public var last: IPAddress {
        let hostBits =
            ~IPPrefix.mask(length: length, width: address.bitWidth)
            & (address.isIPv6 ? ~UInt128(0) : UInt128(UInt32.max))
        let value = address.value | hostBits
        return address.isIPv6 ? IPAddress(ipv6: value) : IPAddress(ipv4: UInt32(value))
    }

    public func contains(_ other: IPAddress) -> Bool {
        other.isIPv6 == address.isIPv6 && other >= address && other <= last
    }

    public func overlaps(_ other: IPPrefix) -> Bool {
        other.address.isIPv6 == address.isIPv6 && other.address <= last && address <= other.last
    }

    /// True for `0.0.0.0/0` and `::/0`, the routes that make a node an exit node.
    public var isDefaultRoute: Bool { length == 0 }

    public static func < (lhs: IPPrefix, rhs: IPPrefix) -> Bool {
        lhs.address != rhs.address ? lhs.address < rhs.address : lhs.length < rhs.length
    }

    /// `a.b.c.d/n`; a bare address is still written with its length.
    public var description: String { "\(address)/\(length)" }
}

/// One address entry of a packet filter: a single address, a CIDR prefix, an inclusive range, or
/// `*` (every address of both families), with the exact spelling Tailscale's filter uses.
struct AddressEntry: Hashable, Sendable {
    let text: String
    let first: IPAddress
    let last: IPAddress
    let isWildcard: Bool

    static let wildcard = AddressEntry(
        text: "*",
        first: IPAddress(ipv4: 0),
        last: IPAddress(ipv6: ~0),
        isWildcard: true
    )

    init(text: String, first: IPAddress, last: IPAddress, isWildcard: Bool = false) {
        self.text = text
        self.first = first
        self.last = last
        self.isWildcard = isWildcard
    }

    /// A single address written without a length, a wider prefix as CIDR.
    init(prefix: IPPrefix) {
        self.init(
            text: prefix.isSingleAddress ? prefix.address.description : prefix.description,
            first: prefix.address,
            last: prefix.last
        )
    }

    init(address: IPAddress) {
        self.init(text: address.description, first: address, last: address)
    }

    /// An inclusive range written `first-last`.
    init(rangeFrom first: IPAddress, to last: IPAddress) {
        self.init(text: "\(first)-\(last)", first: first, last: last)
    }

    func contains(_ address: IPAddress) -> Bool {
        isWildcard || (address >= first && address <= last && address.isIPv6 == first.isIPv6)
    }

    func overlaps(_ prefix: IPPrefix) -> Bool {
        isWildcard || (prefix.address.isIPv6 == first.isIPv6 && prefix.address <= last && first <= prefix.last)
    }
}
