import Foundation

/// Hand-built HTTP/2 frames (RFC 9113) and an HPACK encoder (RFC 7541) without Huffman coding,
/// for requests nghttp2's client would refuse to send.
enum RawHTTP2 {
    enum FrameType: UInt8 {
        case data = 0x0, headers = 0x1, rstStream = 0x3, settings = 0x4, ping = 0x6, goAway = 0x7
        case windowUpdate = 0x8, continuation = 0x9
    }

    static let endStream: UInt8 = 0x1
    static let endHeaders: UInt8 = 0x4
    static let clientPreface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// Encodes a frame: 24-bit length, type, flags, 31-bit stream id, payload.
    static func frame(_ type: FrameType, flags: UInt8, stream: UInt32, _ payload: [UInt8]) -> [UInt8] {
        let length = payload.count
        return [UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), type.rawValue, flags]
            + bigEndian(stream & 0x7FFF_FFFF) + payload
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    static func rstStream(_ stream: UInt32, errorCode: UInt32 = 0x8) -> [UInt8] {
        frame(.rstStream, flags: 0, stream: stream, bigEndian(errorCode))
    }

    static func windowUpdate(_ stream: UInt32, increment: UInt32) -> [UInt8] {
        frame(.windowUpdate, flags: 0, stream: stream, bigEndian(increment))
    }

    /// Encodes SETTINGS with entries (identifier, value), or an empty one.
    static func settings(_ entries: [(UInt16, UInt32)] = []) -> [UInt8] {
        frame(
            .settings,
            flags: 0,
            stream: 0,
            entries.flatMap { [UInt8($0.0 >> 8), UInt8($0.0 & 0xFF)] + bigEndian($0.1) }
        )
    }

    /// An HPACK integer with an `prefixBits`-bit prefix; `firstByte` contains the pattern bits above it.
    static func integer(_ value: Int, prefixBits: Int, firstByte: UInt8) -> [UInt8] {
        let limit = (1 << prefixBits) - 1
        guard value >= limit else { return [firstByte | UInt8(value)] }
        var bytes = [firstByte | UInt8(limit)]
        var rest = value - limit
        while rest >= 128 {
            bytes.append(UInt8(rest % 128) | 0x80)
            rest /= 128
        }
        return bytes + [UInt8(rest)]
    }

    static func string(_ text: String) -> [UInt8] {
        integer(text.utf8.count, prefixBits: 7, firstByte: 0) + Array(text.utf8)
    }

    /// Encodes a literal field that is not added to the dynamic table.
    static func literal(_ name: String, _ value: String) -> [UInt8] {
        [0x00] + string(name) + string(value)
    }

    /// Encodes a literal field that the decoder adds to its dynamic table (at index 62 when it is newest).
    static func indexedLiteral(_ name: String, _ value: String) -> [UInt8] {
        [0x40] + string(name) + string(value)
    }

    /// Encodes a reference to table entry `index`.
    static func indexed(_ index: Int) -> [UInt8] {
        integer(index, prefixBits: 7, firstByte: 0x80)
    }

    /// Encodes the header block of `POST path` with the given extra block bytes appended.
    static func requestBlock(path: String, extra: [UInt8] = []) -> [UInt8] {
        literal(":method", "POST") + literal(":scheme", "https") + literal(":authority", "127.0.0.1")
            + literal(":path", path) + extra
    }

    /// Splits `bytes` into complete frames, returning (type, flags, stream, payload) for each.
    static func parse(_ bytes: inout [UInt8]) -> [(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8])] {
        var frames: [(UInt8, UInt8, UInt32, [UInt8])] = []
        while bytes.count >= 9 {
            let length = Int(bytes[0]) << 16 | Int(bytes[1]) << 8 | Int(bytes[2])
            guard bytes.count >= 9 + length else { break }
            let stream =
                UInt32(bytes[5] & 0x7F) << 24 | UInt32(bytes[6]) << 16 | UInt32(bytes[7]) << 8 | UInt32(bytes[8])
            frames.append((bytes[3], bytes[4], stream, Array(bytes[9..<9 + length])))
            bytes.removeFirst(9 + length)
        }
        return frames
    }
}

extension AttackNoiseClient {
    /// Sends the client preface and an empty SETTINGS frame, for raw HTTP/2 use.
    func startRawHTTP2() throws {
        try sendSealed(RawHTTP2.clientPreface + RawHTTP2.settings())
    }

    /// Reads server frames until `stop` returns true for one, the server closes, or `timeout`
    /// passes. Returns the frame types seen and whether the connection was closed.
    func readFrames(
        timeout: Duration = .seconds(20),
        until stop: (UInt8, UInt32, [UInt8]) -> Bool
    ) -> (types: [UInt8], stopped: Bool, closed: Bool) {
        var buffered: [UInt8] = []
        var types: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let plaintext: [UInt8]
            do {
                plaintext = try readPlaintext()
            } catch {
                // A receive timeout is not a close; only end of file and resets are.
                return (types, false, !"\(error)".contains("timed out"))
            }
            buffered += plaintext
            for frame in RawHTTP2.parse(&buffered) {
                types.append(frame.type)
                if stop(frame.type, frame.stream, frame.payload) { return (types, true, false) }
            }
        }
        return (types, false, false)
    }
}
