import HSCore

extension NoiseHandshake {
    /// Magic that starts the early payload: three `0xFF` bytes, then ASCII `TS`.
    public static let earlyPayloadMagic: [UInt8] = [0xFF, 0xFF, 0xFF, 0x54, 0x53]

    /// Returns the early payload, the first plaintext a server sends on the transport before any
    /// HTTP/2 bytes; seal it with ``NoiseTransport/seal(_:)``.
    ///
    /// Layout: the 5-byte magic ``earlyPayloadMagic``, the big-endian u32 length of the JSON,
    /// then the JSON `{"nodeKeyChallenge":"chalpub:<64 hex digits>"}`. Clients of capability
    /// version 49 and later recognise it by the magic.
    public static func earlyPayload(challenge: ChallengePublicKey) -> [UInt8] {
        let json = Array("{\"nodeKeyChallenge\":\"\(challenge.text)\"}".utf8)
        let length = UInt32(json.count)
        let lengthBytes = (0..<4).map { UInt8(truncatingIfNeeded: length >> (24 - 8 * UInt32($0))) }
        return earlyPayloadMagic + lengthBytes + json
    }

    /// Returns an error frame, which a server sends in place of the handshake response: `0x03`,
    /// the big-endian u16 length, then the UTF-8 `message`.
    ///
    /// The frame is not authenticated, so the client only shows the text. A message longer than
    /// fits in one 4096-byte frame is cut at a character boundary.
    public static func errorFrame(_ message: String) -> [UInt8] {
        let limit = NoiseFrame.maxFrameByteCount - NoiseFrame.headerByteCount
        var text = Array(message.utf8)
        if text.count > limit {
            var end = limit
            // Back up over UTF-8 continuation bytes (10xxxxxx) so no character is split.
            while end > 0 && text[end] & 0xC0 == 0x80 {
                end -= 1
            }
            text = Array(text[..<end])
        }
        return NoiseFrame.header(type: NoiseFrame.errorType, length: text.count) + text
    }
}
