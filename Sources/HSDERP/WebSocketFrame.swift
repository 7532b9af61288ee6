/// One RFC 6455 WebSocket frame and the sans-IO codec for the server side of a connection.
///
/// Wire layout (RFC 6455 section 5.2):
/// - byte 0: FIN (bit 7), three reserved bits that must be zero, opcode (low 4 bits);
/// - byte 1: MASK (bit 7) and a 7-bit length: 0-125 is the length, 126 means a 16-bit big-endian
///   length follows, 127 a 64-bit big-endian one;
/// - a 4-byte masking key when MASK is set (always on client frames, never on server frames);
/// - the payload, XORed byte by byte with the masking key repeated.
public struct WebSocketFrame: Sendable, Equatable {
    /// The frame opcodes of RFC 6455 section 5.2; other values are reserved.
    public enum Opcode: UInt8, Sendable {
        case continuation = 0x0
        case text = 0x1
        case binary = 0x2
        case close = 0x8
        case ping = 0x9
        case pong = 0xA

        var isControl: Bool { rawValue & 0x8 != 0 }
    }

    public var isFinal: Bool
    public var opcode: Opcode
    /// The unmasked payload.
    public var payload: [UInt8]

    public init(isFinal: Bool = true, opcode: Opcode, payload: [UInt8]) {
        self.isFinal = isFinal
        self.opcode = opcode
        self.payload = payload
    }

    /// Encodes the frame as a server sends it: unmasked.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = [(isFinal ? 0x80 : 0) | opcode.rawValue]
        let count = payload.count
        if count < 126 {
            bytes.append(UInt8(count))
        } else if count <= 0xFFFF {
            bytes += [126, UInt8(count >> 8), UInt8(count & 0xFF)]
        } else {
            bytes.append(127)
            for shift in stride(from: 56, through: 0, by: -8) {
                bytes.append(UInt8(truncatingIfNeeded: UInt64(count) >> UInt64(shift)))
            }
        }
        return bytes + payload
    }
}

/// Splits the bytes a WebSocket client sends into frames, buffering partial ones.
///
/// Feed bytes with ``feed(_:)`` and call ``nextFrame()`` until it returns nil. It enforces the
/// server-side rules of RFC 6455: client frames must be masked, reserved bits and opcodes are
/// errors, control frames carry at most 125 bytes and are never fragmented, and no payload may
/// exceed `maxPayloadLength`. After an error the connection must be closed.
public struct WebSocketFrameDecoder: Sendable {
    public let maxPayloadLength: Int
    private var buffer: [UInt8] = []
    private var start = 0

    public init(maxPayloadLength: Int) {
        self.maxPayloadLength = maxPayloadLength
    }

    public mutating func feed(_ bytes: [UInt8]) {
        if start > 0, start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Returns the next complete frame with its payload unmasked, or nil when more bytes are needed.
    ///
    /// - Throws: ``DERPError`` with code `malformedFrame` or `frameTooLarge`.
    public mutating func nextFrame() throws(DERPError) -> WebSocketFrame? {
        guard let header = try parseHeader() else { return nil }
        guard buffer.count - start >= header.length + 4 + header.payloadLength else { return nil }

        // The 4-byte masking key follows the header; the payload is XORed with it, repeated.
        let maskStart = start + header.length
        let mask = Array(buffer[maskStart..<maskStart + 4])
        let payloadStart = maskStart + 4
        var payload = Array(buffer[payloadStart..<payloadStart + header.payloadLength])
        for index in payload.indices { payload[index] ^= mask[index & 3] }

        start = payloadStart + header.payloadLength
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        return WebSocketFrame(isFinal: header.isFinal, opcode: header.opcode, payload: payload)
    }

    private struct Header {
        var isFinal: Bool
        var opcode: WebSocketFrame.Opcode
        /// Bytes before the masking key: 2, 4 or 10.
        var length: Int
        var payloadLength: Int
    }

    /// Validates the frame header at `start`; nil when it has not fully arrived.
    private func parseHeader() throws(DERPError) -> Header? {
        let available = buffer.count - start
        guard available >= 2 else { return nil }
        let first = buffer[start]
        let second = buffer[start + 1]
        guard first & 0x70 == 0 else {
            throw DERPError(
                .malformedFrame,
                "WebSocket frame sets reserved bits (first byte \(first)), but no extension was negotiated"
            )
        }
        guard let opcode = WebSocketFrame.Opcode(rawValue: first & 0x0F) else {
            throw DERPError(.malformedFrame, "WebSocket frame has the reserved opcode \(first & 0x0F)")
        }
        guard second & 0x80 != 0 else {
            throw DERPError(.malformedFrame, "WebSocket frame from the client is not masked, which RFC 6455 requires")
        }

        var header = Header(isFinal: first & 0x80 != 0, opcode: opcode, length: 2, payloadLength: Int(second & 0x7F))
        if header.payloadLength == 126 {
            guard available >= 4 else { return nil }
            header.payloadLength = Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
            header.length = 4
        } else if header.payloadLength == 127 {
            guard available >= 10 else { return nil }
            var wide: UInt64 = 0
            for index in 0..<8 { wide = wide << 8 | UInt64(buffer[start + 2 + index]) }
            guard wide <= UInt64(maxPayloadLength) else { throw tooLarge(wide) }
            header.payloadLength = Int(wide)
            header.length = 10
        }
        guard header.payloadLength <= maxPayloadLength else { throw tooLarge(UInt64(header.payloadLength)) }
        if opcode.isControl, header.payloadLength > 125 || !header.isFinal {
            throw DERPError(.malformedFrame, "WebSocket control frame \(opcode) is fragmented or longer than 125 bytes")
        }
        return header
    }

    private func tooLarge(_ length: UInt64) -> DERPError {
        DERPError(
            .frameTooLarge,
            "WebSocket frame announces \(length) bytes, more than the limit of \(maxPayloadLength)"
        )
    }
}
