internal import CZstd

/// Decompresses one map message: one or more complete zstd frames.
///
/// Frames that declare their content size are decoded in one call; others go through the
/// streaming decoder. Output is capped at `limit` bytes.
public enum ZstdFrameDecoder {
    /// Returns the decompressed bytes of `input`.
    /// - Throws: ``LoadGenError`` when the input is not valid zstd or its output exceeds `limit`.
    public static func decompress(_ input: [UInt8], limit: Int = 64 << 20) throws(LoadGenError) -> [UInt8] {
        let declared = input.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, input.count) }
        if declared == ZSTD_CONTENTSIZE_ERROR {
            throw LoadGenError("map message of \(input.count) bytes is not a zstd frame (bad magic number)")
        }
        if declared != ZSTD_CONTENTSIZE_UNKNOWN, declared <= UInt64(limit),
            let single = decodeSized(input, size: Int(declared))
        {
            return single
        }
        return try decodeStreaming(input, limit: limit)
    }

    /// Decodes a single frame of known size; returns nil when more than one frame follows.
    private static func decodeSized(_ input: [UInt8], size: Int) -> [UInt8]? {
        var output = [UInt8](repeating: 0, count: size)
        let written = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { destination in
                ZSTD_decompress(destination.baseAddress, size, source.baseAddress, input.count)
            }
        }
        guard ZSTD_isError(written) == 0 else { return nil }
        output.removeSubrange(written...)
        return output
    }

    private static func decodeStreaming(_ input: [UInt8], limit: Int) throws(LoadGenError) -> [UInt8] {
        guard let context = ZSTD_createDStream() else {
            throw LoadGenError("allocating a zstd decoder failed (out of memory)")
        }
        defer { ZSTD_freeDStream(context) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var failure: String?
        input.withUnsafeBytes { source in
            var inBuffer = ZSTD_inBuffer(src: source.baseAddress, size: input.count, pos: 0)
            while true {
                let (code, produced) = chunk.withUnsafeMutableBytes { destination in
                    var outBuffer = ZSTD_outBuffer(dst: destination.baseAddress, size: destination.count, pos: 0)
                    let code = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
                    return (code, outBuffer.pos)
                }
                if ZSTD_isError(code) != 0 {
                    failure = String(cString: ZSTD_getErrorName(code))
                    return
                }
                output += chunk[0..<produced]
                if output.count > limit {
                    failure = "output exceeds the limit of \(limit) bytes"
                    return
                }
                if inBuffer.pos == inBuffer.size && produced < chunk.count { return }
            }
        }
        if let failure {
            throw LoadGenError("decompressing a map message of \(input.count) bytes failed: \(failure)")
        }
        return output
    }
}
