import HSPosix

/// The RFC 5389 Binding method as Tailscale clients use it, without I/O.
///
/// Request layout (40 bytes from Tailscale's client): bytes 0–1 type `00 01`, 2–3 attribute length
/// (20), 4–7 magic cookie `21 12 A4 42`, 8–19 transaction ID, then SOFTWARE (`80 22`, length 8,
/// `tailnode`) and FINGERPRINT (`80 28`, length 4, CRC-32 of all preceding bytes XOR `5354554E`).
/// Each attribute is a 2-byte type, a 2-byte length and the value padded to 4 bytes.
public enum STUN {
    /// The fixed value at bytes 4–7 of every RFC 5389 message.
    public static let magicCookie: [UInt8] = [0x21, 0x12, 0xA4, 0x42]
    /// Length of the message header.
    public static let headerLength = 20
    /// The SOFTWARE value Tailscale clients send; requests without it are ignored.
    public static let tailscaleSoftware: [UInt8] = Array("tailnode".utf8)

    static let bindingRequestType: [UInt8] = [0x00, 0x01]
    static let bindingSuccessType: [UInt8] = [0x01, 0x01]
    static let softwareAttribute: UInt16 = 0x8022
    static let fingerprintAttribute: UInt16 = 0x8028
    static let xorMappedAddressAttribute: UInt16 = 0x0020
    static let fingerprintXOR: UInt32 = 0x5354_554E

    /// A 12-byte STUN transaction ID.
    public struct TransactionID: Hashable, Sendable {
        public let bytes: [UInt8]

        /// Wraps 12 bytes; returns nil for any other length.
        public init?(bytes: [UInt8]) {
            guard bytes.count == 12 else { return nil }
            self.bytes = bytes
        }
    }

    /// Returns the transaction ID of a valid Tailscale Binding Request, or nil for anything else.
    ///
    /// A packet is accepted only when all of these hold:
    /// - it has at least 20 bytes, and the top two bits of byte 0 are zero;
    /// - the magic cookie is present and the type is Binding Request;
    /// - the header's length field equals the number of bytes after the header;
    /// - the attributes are well-formed, and one of them is SOFTWARE `tailnode`;
    /// - the last attribute is a 4-byte FINGERPRINT that matches.
    public static func parseBindingRequest(_ packet: [UInt8]) -> TransactionID? {
        guard packet.count >= headerLength, packet[0] & 0xC0 == 0,
            packet[4..<8].elementsEqual(magicCookie), packet[0..<2].elementsEqual(bindingRequestType),
            Int(readUInt16(packet, at: 2)) == packet.count - headerLength
        else { return nil }
        guard let attributes = parseAttributes(packet) else { return nil }
        guard attributes.contains(where: { $0.type == softwareAttribute && $0.value.elementsEqual(tailscaleSoftware) }),
            let last = attributes.last, last.type == fingerprintAttribute, last.value.count == 4
        else { return nil }
        let expected = CRC32.checksum(packet[0..<packet.count - 8]) ^ fingerprintXOR
        guard readUInt32(packet, at: packet.count - 4) == expected else { return nil }
        return TransactionID(bytes: Array(packet[8..<20]))
    }

    /// Builds a Binding Success response carrying `address` in one XOR-MAPPED-ADDRESS attribute.
    ///
    /// Attribute value: byte 0 reserved (0), byte 1 family (1 IPv4, 2 IPv6), bytes 2–3 port XOR
    /// `2112`, then the address XOR the magic cookie (IPv4) or XOR cookie and transaction ID (IPv6).
    /// No SOFTWARE or FINGERPRINT follows, as in Tailscale's server.
    public static func bindingResponse(transactionID: TransactionID, address: UDPAddress) -> [UInt8] {
        let family: UInt8 = address.isIPv4 ? 1 : 2
        let valueLength = 4 + address.ip.count
        var bytes = bindingSuccessType
        appendUInt16(&bytes, UInt16(4 + valueLength))
        bytes += magicCookie + transactionID.bytes
        appendUInt16(&bytes, xorMappedAddressAttribute)
        appendUInt16(&bytes, UInt16(valueLength))
        bytes += [0, family]
        appendUInt16(&bytes, address.port ^ 0x2112)
        let mask = magicCookie + transactionID.bytes
        for (index, byte) in address.ip.enumerated() {
            bytes.append(byte ^ mask[index])
        }
        return bytes
    }

    private struct Attribute {
        var type: UInt16
        var value: ArraySlice<UInt8>
    }

    /// Splits the attributes after the header; nil when one overruns the packet.
    private static func parseAttributes(_ packet: [UInt8]) -> [Attribute]? {
        var attributes: [Attribute] = []
        var offset = headerLength
        while offset < packet.count {
            guard packet.count - offset >= 4 else { return nil }
            let type = readUInt16(packet, at: offset)
            let length = Int(readUInt16(packet, at: offset + 2))
            let padded = (length + 3) & ~3
            offset += 4
            guard padded <= packet.count - offset else { return nil }
            attributes.append(Attribute(type: type, value: packet[offset..<offset + length]))
            offset += padded
        }
        return attributes
    }

    private static func readUInt16(_ bytes: [UInt8], at offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    private static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(readUInt16(bytes, at: offset)) << 16 | UInt32(readUInt16(bytes, at: offset + 2))
    }

    private static func appendUInt16(_ bytes: inout [UInt8], _ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xFF))
    }
}

/// CRC-32 with the IEEE polynomial (reflected `EDB88320`), as zlib and Go's `hash/crc32` compute it.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 {
            value = value & 1 == 1 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1
        }
        return value
    }

    static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }
}
