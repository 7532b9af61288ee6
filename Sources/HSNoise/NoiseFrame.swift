/// Frame types and sizes of Tailscale's control-protocol Noise framing.
///
/// Every frame after the initiation starts with a 3-byte header: the type byte, then the
/// big-endian u16 length of the bytes that follow. The initiation has a 5-byte header because
/// a big-endian u16 protocol version comes first.
///
/// | Type   | Name       | Direction        | Payload                                       |
/// |--------|------------|------------------|-----------------------------------------------|
/// | `0x01` | initiation | client to server | 96 bytes                                      |
/// | `0x02` | response   | server to client | 48 bytes                                      |
/// | `0x03` | error      | server to client | unauthenticated UTF-8 text, instead of `0x02` |
/// | `0x04` | record     | both             | ciphertext followed by a 16-byte tag          |
public enum NoiseFrame {
    public static let initiationType: UInt8 = 0x01
    public static let responseType: UInt8 = 0x02
    public static let errorType: UInt8 = 0x03
    public static let recordType: UInt8 = 0x04

    /// Header length of every frame except the initiation.
    public static let headerByteCount = 3
    /// Header length of the initiation: version (2), type (1), length (2).
    public static let initiationHeaderByteCount = 5
    /// Initiation payload: ephemeral key (32), encrypted static key (48), tag (16).
    public static let initiationPayloadByteCount = 96
    public static let initiationByteCount = initiationHeaderByteCount + initiationPayloadByteCount
    /// Response payload: ephemeral key (32), tag (16).
    public static let responsePayloadByteCount = 48
    public static let responseByteCount = headerByteCount + responsePayloadByteCount

    /// Largest frame on the wire, header included.
    public static let maxFrameByteCount = 4096
    /// Largest record ciphertext, tag included.
    public static let maxCiphertextByteCount = maxFrameByteCount - headerByteCount
    /// Largest plaintext carried by one record.
    public static let maxPlaintextByteCount = maxCiphertextByteCount - 16

    /// Returns `type` followed by `length` as a big-endian u16.
    static func header(type: UInt8, length: Int) -> [UInt8] {
        [type, UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)]
    }

    /// Reads the big-endian u16 at `offset`.
    static func readUInt16(_ bytes: [UInt8], at offset: Int) -> Int {
        Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
    }
}
