import CZstd

/// zstd compression for map messages, which Tailscale clients always request (`Compress: "zstd"`).
enum Zstd {
    /// The fastest standard level: map messages are small and latency matters more than ratio.
    static let level: Int32 = 1

    /// Compresses `input` into one complete zstd frame that records the content size.
    static func compress(_ input: [UInt8]) -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { destination in
                ZSTD_compress(destination.baseAddress, bound, source.baseAddress, input.count, level)
            }
        }
        // Compression into a buffer of ZSTD_compressBound bytes cannot fail for valid parameters.
        precondition(ZSTD_isError(written) == 0, "zstd compression failed: \(String(cString: ZSTD_getErrorName(written)))")
        output.removeSubrange(written...)
        return output
    }

    /// Decompresses one frame whose header records its size, refusing more than `limit` bytes.
    static func decompress(_ input: [UInt8], limit: Int = 16 << 20) -> [UInt8]? {
        let size = input.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, input.count) }
        guard size != ZSTD_CONTENTSIZE_ERROR, size != ZSTD_CONTENTSIZE_UNKNOWN, size <= UInt64(limit) else { return nil }
        var output = [UInt8](repeating: 0, count: Int(size))
        let written = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { destination in
                ZSTD_decompress(destination.baseAddress, Int(size), source.baseAddress, input.count)
            }
        }
        guard ZSTD_isError(written) == 0 else { return nil }
        output.removeSubrange(written...)
        return output
    }
}

/// The framing of `/machine/map` response bodies: each message is a 4-byte little-endian length
/// followed by that many bytes of zstd-compressed JSON.
enum MapFraming {
    /// Compresses one JSON map message and prefixes its length.
    static func frame(json: [UInt8]) -> [UInt8] {
        let compressed = Zstd.compress(json)
        let length = UInt32(compressed.count)
        var out: [UInt8] = []
        out.reserveCapacity(4 + compressed.count)
        out.append(UInt8(truncatingIfNeeded: length))
        out.append(UInt8(truncatingIfNeeded: length >> 8))
        out.append(UInt8(truncatingIfNeeded: length >> 16))
        out.append(UInt8(truncatingIfNeeded: length >> 24))
        out.append(contentsOf: compressed)
        return out
    }

    /// Splits a body into its messages' compressed payloads; returns nil on a truncated message.
    static func split(_ body: [UInt8]) -> [[UInt8]]? {
        var messages: [[UInt8]] = []
        var index = 0
        while index < body.count {
            guard body.count - index >= 4 else { return nil }
            let length = Int(body[index]) | Int(body[index + 1]) << 8 | Int(body[index + 2]) << 16
                | Int(body[index + 3]) << 24
            index += 4
            guard body.count - index >= length else { return nil }
            messages.append(Array(body[index..<(index + length)]))
            index += length
        }
        return messages
    }
}
