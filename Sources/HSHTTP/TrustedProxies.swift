import Glibc

/// An IPv4 or IPv6 network such as `10.0.0.0/8`, matched against addresses byte by byte.
public struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    /// The network's address bytes: 4 for IPv4, 16 for IPv6, with host bits cleared.
    public let address: [UInt8]
    /// The prefix length in bits.
    public let length: Int

    /// Parses `address/length`; nil when the text is not a CIDR of either family.
    public init?(cidr: String) {
        let parts = cidr.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let bytes = IPNetwork.addressBytes(String(parts[0])),
            parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(parts[1]),
            (0...(bytes.count * 8)).contains(length)
        else { return nil }
        self.length = length
        self.address = IPNetwork.masked(bytes, length: length)
    }

    public var description: String {
        let text = address.count == 4 ? address.map(String.init).joined(separator: ".") : IPNetwork.format(address)
        return text + "/" + String(length)
    }

    /// Returns whether `bytes` (an address of either family) lies inside the network.
    public func contains(_ bytes: [UInt8]) -> Bool {
        bytes.count == address.count && IPNetwork.masked(bytes, length: length) == address
    }

    /// Parses an IPv4 or IPv6 address into 4 or 16 bytes; an IPv4-mapped IPv6 address gives 4.
    static func addressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        let mappedPrefix: [UInt8] = Array(repeating: 0, count: 10) + [0xff, 0xff]
        return Array(bytes.prefix(12)) == mappedPrefix ? Array(bytes.suffix(4)) : bytes
    }

    private static func masked(_ bytes: [UInt8], length: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bits = min(max(length - index * 8, 0), 8)
            return bits == 8 ? byte : byte & ~(0xff >> UInt8(bits))
        }
    }

    /// Formats 16 bytes as IPv6 text.
    static func format(_ bytes: [UInt8]) -> String {
        var v6 = in6_addr()
        withUnsafeMutableBytes(of: &v6) { $0.copyBytes(from: bytes) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil else { return "invalid" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Finds a request's client address behind trusted reverse proxies.
///
/// The headers are believed only when the TCP peer lies inside a trusted network, because any
/// client can send them. `True-Client-IP` is tried first, then `X-Real-IP`, then `X-Forwarded-For`,
/// and the first that yields a valid address wins. In `X-Forwarded-For` every proxy appends the
/// address it received from, so the list is read from the right: trusted entries are skipped and
/// the first untrusted one is the client, because anything left of it came from the client itself.
enum ClientAddress {
    /// Returns the client's address for a request from `peer` (`ip:port` or `[ipv6]:port`): a bare
    /// IP address taken from the headers when `peer` is trusted and they hold one, else `peer`.
    static func resolve(peer: String, headers: HTTPHeaders, trusted: [IPNetwork]) -> String {
        guard !trusted.isEmpty, let peerBytes = IPNetwork.addressBytes(host(of: peer)),
            isTrusted(peerBytes, trusted)
        else { return peer }
        for name in ["True-Client-IP", "X-Real-IP"] {
            if let value = headers[name], let bytes = IPNetwork.addressBytes(trimmed(value)) {
                return text(bytes)
            }
        }
        let forwarded = headers.values("X-Forwarded-For").flatMap { $0.split(separator: ",") }.map { trimmed($0) }
        var leftmost: [UInt8]?
        for entry in forwarded.reversed() {
            // An entry that is not an address means the list was mangled: keep the TCP peer.
            guard let bytes = IPNetwork.addressBytes(entry) else { return peer }
            if !isTrusted(bytes, trusted) { return text(bytes) }
            leftmost = bytes
        }
        // Every entry is a trusted proxy, so the leftmost is as close to the client as known.
        return leftmost.map(text) ?? peer
    }

    private static func isTrusted(_ bytes: [UInt8], _ trusted: [IPNetwork]) -> Bool {
        trusted.contains { $0.contains(bytes) }
    }

    /// Returns the address part of `ip:port` or `[ipv6]:port`.
    private static func host(of peer: String) -> String {
        if peer.hasPrefix("["), let close = peer.firstIndex(of: "]") {
            return String(peer[peer.index(after: peer.startIndex)..<close])
        }
        guard let colon = peer.lastIndex(of: ":"), peer.filter({ $0 == ":" }).count == 1 else { return peer }
        return String(peer[..<colon])
    }

    private static func trimmed(_ text: some StringProtocol) -> String {
        String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }

    private static func text(_ bytes: [UInt8]) -> String {
        bytes.count == 4 ? bytes.map(String.init).joined(separator: ".") : IPNetwork.format(bytes)
    }
}
