import HSCore

#if canImport(Glibc)
    import Glibc
#endif

/// Flags of a PeerPresent frame, describing the connection that appeared.
public struct DERPPeerPresentFlags: OptionSet, Sendable {
    public let rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// An ordinary client.
    public static let regular = DERPPeerPresentFlags(rawValue: 0x01)
    /// Another relay of the mesh.
    public static let meshPeer = DERPPeerPresentFlags(rawValue: 0x02)
}

extension DERPFrame {
    /// The bytes of a PeerPresent payload: key, 16-byte address, port, flags.
    public static let peerPresentLength = DERP.keyLength + 16 + 2 + 1

    /// WatchConns, empty: a mesh peer requests PeerPresent and PeerGone of every client.
    public static let watchConns = DERPFrame(type: .watchConns)

    /// PeerPresent, sent to mesh peers that watch connections.
    ///
    /// Layout: the 32-byte key, the client's address as 16 bytes (IPv4 as IPv4-mapped IPv6, all
    /// zero when unknown), its port big-endian in 2 bytes, then the flags byte.
    public static func peerPresent(
        _ key: NodePublicKey,
        remoteAddress: String,
        flags: DERPPeerPresentFlags
    ) -> DERPFrame {
        let (address, port) = DERPRemoteAddress.parse(remoteAddress)
        let payload = key.bytes + address + [UInt8(port >> 8), UInt8(port & 0xFF), flags.rawValue]
        return DERPFrame(type: .peerPresent, payload: payload)
    }

    /// ClosePeer: a mesh peer requests that this relay close the connection of `key`.
    public static func closePeer(_ key: NodePublicKey) -> DERPFrame {
        DERPFrame(type: .closePeer, payload: key.bytes)
    }

    /// ForwardPacket: a mesh peer hands over `packet` from its client `source` to this relay's
    /// client `destination`.
    public static func forwardPacket(from source: NodePublicKey, to destination: NodePublicKey, _ packet: [UInt8])
        -> DERPFrame
    {
        DERPFrame(type: .forwardPacket, payload: source.bytes + destination.bytes + packet)
    }
}

/// Turns a stream's `ip:port` or `[ipv6]:port` into the 16 address bytes and the port of a
/// PeerPresent frame.
enum DERPRemoteAddress {
    static func parse(_ text: String) -> (address: [UInt8], port: UInt16) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            return ([UInt8](repeating: 0, count: 16), 0)
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            let bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return ([UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + bytes, port)
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return (withUnsafeBytes(of: &v6) { Array($0) }, port)
        }
        return ([UInt8](repeating: 0, count: 16), port)
    }
}
