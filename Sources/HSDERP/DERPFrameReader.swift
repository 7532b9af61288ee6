/// Splits a DERP byte stream into frames, buffering partial ones.
///
/// Sans-IO: feed it bytes as they arrive with ``feed(_:)``, then call ``nextFrame()`` until it
/// returns nil. It rejects a frame as soon as its header announces too long a payload, before
/// buffering that payload: any frame over `maxFrameLength`, and a ClientInfo frame over
/// ``DERP/maxClientInfoLength``. After an error the stream is unusable and should be closed.
public struct DERPFrameReader: Sendable {
    /// Largest payload accepted for any frame type.
    public let maxFrameLength: Int

    private var buffer: [UInt8] = []
    // Index of the first unconsumed byte; consumed bytes are dropped in bulk to keep feeding cheap.
    private var start = 0

    public init(maxFrameLength: Int = DERP.maxFrameLength) {
        self.maxFrameLength = maxFrameLength
    }

    /// Bytes received but not yet returned as part of a frame.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Appends bytes read from the stream.
    public mutating func feed(_ bytes: [UInt8]) {
        if start > 0, start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Returns the next complete frame, or nil when more bytes are needed.
    ///
    /// - Throws: ``DERPError`` with code `frameTooLarge` when a header announces more than the limit.
    public mutating func nextFrame() throws(DERPError) -> DERPFrame? {
        guard bufferedByteCount >= DERPFrame.headerLength else { return nil }
        let type = DERPFrameType(rawValue: buffer[start])
        let length =
            Int(buffer[start + 1]) << 24 | Int(buffer[start + 2]) << 16 | Int(buffer[start + 3]) << 8
            | Int(buffer[start + 4])
        let limit = type == .clientInfo ? min(maxFrameLength, DERP.maxClientInfoLength) : maxFrameLength
        guard length <= limit else {
            throw DERPError(
                .frameTooLarge,
                "\(type) frame announces \(length) bytes, more than the limit of \(limit); closing the connection"
            )
        }
        guard bufferedByteCount >= DERPFrame.headerLength + length else { return nil }
        let payloadStart = start + DERPFrame.headerLength
        let payload = Array(buffer[payloadStart..<payloadStart + length])
        start = payloadStart + length
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        return DERPFrame(type: type, payload: payload)
    }
}
