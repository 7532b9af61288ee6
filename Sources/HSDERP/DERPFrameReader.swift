/// Splits a DERP byte stream into frames, buffering partial ones.
///
/// Sans-IO: feed it bytes as they arrive with ``feed(_:)``, then call ``nextFrame()`` until it
/// returns nil. It rejects a frame as soon as its header announces too long a payload, before
/// buffering that payload: any frame over `maxFrameLength`, and a ClientInfo frame over
/// ``DERP/maxClientInfoLength``. After an error the stream is unusable and should be closed.
///
/// Frames that lie whole inside one fed array are returned as slices of it, so reading copies
/// only the bytes of a frame split across two feeds.
public struct DERPFrameReader: Sendable {
    /// Largest payload accepted for any frame type.
    public let maxFrameLength: Int

    /// The start of a frame that the fed arrays so far end in the middle of.
    private var carry: [UInt8] = []
    /// The latest fed array, read in place from `chunkStart`.
    private var chunk: [UInt8] = []
    private var chunkStart = 0

    public init(maxFrameLength: Int = DERP.maxFrameLength) {
        self.maxFrameLength = maxFrameLength
    }

    /// Bytes received but not yet returned as part of a frame.
    public var bufferedByteCount: Int { carry.count + chunk.count - chunkStart }

    /// Appends bytes read from the stream.
    public mutating func feed(_ bytes: [UInt8]) {
        if chunkStart < chunk.count {
            carry.append(contentsOf: chunk[chunkStart...])
        }
        chunk = bytes
        chunkStart = 0
    }

    /// Returns the next complete frame, or nil when more bytes are needed.
    ///
    /// - Throws: ``DERPError`` with code `frameTooLarge` when a header announces more than the limit.
    public mutating func nextFrame() throws(DERPError) -> DERPFrame? {
        guard let (type, payload) = try nextFrameSlice() else { return nil }
        return DERPFrame(type: type, payload: Array(payload))
    }

    /// Returns the next complete frame's type and payload without copying the payload when it
    /// lies whole in one fed array, or nil when more bytes are needed.
    ///
    /// - Throws: ``DERPError`` with code `frameTooLarge` when a header announces more than the limit.
    public mutating func nextFrameSlice() throws(DERPError) -> (type: DERPFrameType, payload: ArraySlice<UInt8>)? {
        if !carry.isEmpty {
            return try completeCarriedFrame()
        }
        let available = chunk.count - chunkStart
        guard available >= DERPFrame.headerLength else {
            carryRestOfChunk()
            return nil
        }
        let (type, length) = try parseHeader(chunk[chunkStart..<chunkStart + DERPFrame.headerLength])
        guard available >= DERPFrame.headerLength + length else {
            carryRestOfChunk()
            return nil
        }
        let payloadStart = chunkStart + DERPFrame.headerLength
        let payload = chunk[payloadStart..<payloadStart + length]
        chunkStart = payloadStart + length
        if chunkStart == chunk.count {
            chunk = []
            chunkStart = 0
        }
        return (type, payload)
    }

    /// Moves bytes from the chunk into `carry` until it contains a whole frame, checking the header
    /// as soon as it is complete.
    private mutating func completeCarriedFrame() throws(DERPError) -> (DERPFrameType, ArraySlice<UInt8>)? {
        if carry.count < DERPFrame.headerLength {
            takeFromChunk(DERPFrame.headerLength - carry.count)
            guard carry.count == DERPFrame.headerLength else { return nil }
        }
        let (type, length) = try parseHeader(carry[0..<DERPFrame.headerLength])
        let frameLength = DERPFrame.headerLength + length
        takeFromChunk(frameLength - carry.count)
        guard carry.count == frameLength else { return nil }
        let payload = carry[DERPFrame.headerLength...]
        carry = []
        return (type, payload)
    }

    private mutating func takeFromChunk(_ count: Int) {
        let taken = min(count, chunk.count - chunkStart)
        guard taken > 0 else { return }
        carry.append(contentsOf: chunk[chunkStart..<chunkStart + taken])
        chunkStart += taken
        if chunkStart == chunk.count {
            chunk = []
            chunkStart = 0
        }
    }

    private mutating func carryRestOfChunk() {
        carry.append(contentsOf: chunk[chunkStart...])
        chunk = []
        chunkStart = 0
    }

    /// Reads type and length from a 5-byte header and checks the length against the limits.
    private func parseHeader(_ header: ArraySlice<UInt8>) throws(DERPError) -> (DERPFrameType, Int) {
        let base = header.startIndex
        let type = DERPFrameType(rawValue: header[base])
        let length =
            Int(header[base + 1]) << 24 | Int(header[base + 2]) << 16 | Int(header[base + 3]) << 8
            | Int(header[base + 4])
        let limit = type == .clientInfo ? min(maxFrameLength, DERP.maxClientInfoLength) : maxFrameLength
        guard length <= limit else {
            throw DERPError(
                .frameTooLarge,
                "\(type) frame announces \(length) bytes, more than the limit of \(limit); closing the connection"
            )
        }
        return (type, length)
    }
}
