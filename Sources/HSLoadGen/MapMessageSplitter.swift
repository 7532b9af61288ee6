/// Splits a map response body into messages.
///
/// Wire layout of the body: repeated `[u32 little-endian length N][N bytes]`, where the N bytes
/// are one zstd-compressed JSON `MapResponse`. Bytes may arrive cut at any point.
public struct MapMessageSplitter: Sendable {
    /// Largest message accepted; a larger length prefix means a broken stream.
    public static let maxMessageByteCount = 16 << 20

    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    /// Bytes held back because their message is not complete yet.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Appends body bytes and returns the messages they completed, without their length prefixes.
    /// - Throws: ``LoadGenError`` when a length prefix exceeds ``maxMessageByteCount``.
    public mutating func append(_ bytes: [UInt8]) throws(LoadGenError) -> [[UInt8]] {
        buffer += bytes
        var messages: [[UInt8]] = []
        while buffer.count - start >= 4 {
            let length =
                Int(buffer[start]) | Int(buffer[start + 1]) << 8 | Int(buffer[start + 2]) << 16
                | Int(buffer[start + 3]) << 24
            guard length <= Self.maxMessageByteCount else {
                throw LoadGenError(
                    "map message length \(length) exceeds the limit of \(Self.maxMessageByteCount) bytes; "
                        + "the stream is corrupt"
                )
            }
            guard buffer.count - start - 4 >= length else { break }
            messages.append(Array(buffer[(start + 4)..<(start + 4 + length)]))
            start += 4 + length
        }
        if start > 0 && (start == buffer.count || start > 1 << 16) {
            buffer.removeFirst(start)
            start = 0
        }
        return messages
    }
}
