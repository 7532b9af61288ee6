/// Per-stream state of the server: the request being assembled and the response body not yet handed to nghttp2.
///
/// The connection removes the value when nghttp2 reports the stream closed, which frees both buffers.
struct HTTP2Stream {
    var method = ""
    var path = ""
    var authority = ""
    var scheme = ""
    var headers: [(name: String, value: String)] = []
    /// Header list size so far, counted as SETTINGS_MAX_HEADER_LIST_SIZE defines it.
    var headerListSize = 0
    var body: [UInt8] = []
    /// A second HEADERS block (trailers) is arriving; its fields count towards the limit but are not kept.
    var isReceivingTrailers = false
    /// The request was refused (too large); nothing is delivered for this stream.
    var isRejected = false
    /// The delegate received the request, so it must also see the stream close.
    var isDelivered = false
    /// A response (HEADERS) was submitted; a second one would be a protocol violation.
    var hasResponse = false
    /// Response body bytes waiting for nghttp2's data provider.
    var outbound = OutboundBuffer()
    /// The application appended the last body bytes; the provider sets END_STREAM once `outbound` is empty.
    var outboundEnded = false
    /// The data provider returned NGHTTP2_ERR_DEFERRED and needs `nghttp2_session_resume_data`.
    var isDeferred = false
}

/// A FIFO of byte chunks that avoids copying appended arrays until they are read out.
struct OutboundBuffer {
    private var chunks: [[UInt8]] = []
    private var headOffset = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        chunks.append(bytes)
        count += bytes.count
    }

    /// Moves up to `destination.count` bytes into `destination` and returns how many it moved.
    mutating func read(into destination: UnsafeMutableRawBufferPointer) -> Int {
        var written = 0
        while written < destination.count, let head = chunks.first {
            let take = min(head.count - headOffset, destination.count - written)
            head.withUnsafeBytes { source in
                let slice = UnsafeRawBufferPointer(rebasing: source[headOffset..<(headOffset + take)])
                UnsafeMutableRawBufferPointer(rebasing: destination[written..<(written + take)])
                    .copyMemory(from: slice)
            }
            written += take
            headOffset += take
            if headOffset == head.count {
                chunks.removeFirst()
                headOffset = 0
            }
        }
        count -= written
        return written
    }

    mutating func removeAll() {
        chunks = []
        headOffset = 0
        count = 0
    }
}
