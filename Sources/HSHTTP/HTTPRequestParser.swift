/// An event that ``HTTPRequestParser/next()`` found in the buffered bytes.
public enum HTTPParserEvent: Sendable {
    /// A complete request, head and body.
    case request(HTTPRequest)
    /// The head of a request carrying `Expect: 100-continue` is complete and its body has not
    /// arrived; the server should send `100 Continue`. Emitted at most once per request.
    case continueExpected
}

/// An incremental HTTP/1.1 request parser with no I/O (RFC 9112).
///
/// Feed bytes with ``append(_:)`` and take events with ``next()`` until it returns nil. Requests
/// come out in arrival order, so pipelined requests queue up in the buffer until the caller asks.
///
/// Limits and the status each violation throws:
/// - request line plus header fields over `maxHeaderBytes`: 431;
/// - a body over `maxBodyBytes`, by `Content-Length` or by the sum of chunk sizes: 413;
/// - a version other than HTTP/1.0 or HTTP/1.1: 505;
/// - a transfer coding other than `chunked`: 501;
/// - anything malformed, including both `Content-Length` and `Transfer-Encoding`, conflicting
///   `Content-Length` values, a bad percent-escape in the target, or a missing `Host` in HTTP/1.1: 400.
///
/// After a throw the parser is unusable: the caller answers with the error and closes.
/// `remoteAddress` and `isSecure` of the requests it produces are empty; the server fills them in.
public struct HTTPRequestParser: Sendable {
    public let maxHeaderBytes: Int
    public let maxBodyBytes: Int
    /// The maximum length of a chunk-size line, extensions included.
    static let maxChunkLineBytes = 1024

    var buffer: [UInt8] = []
    /// Index of the first byte not yet consumed.
    var start = 0
    /// The index where the search for the end of the head resumes, so a slow client does not cost quadratic time.
    var headScanFrom = 0
    var state = State.head

    enum State: Sendable {
        case head
        case fixedBody(HTTPRequest, remaining: Int, announcedContinue: Bool)
        case chunkSize(HTTPRequest, announcedContinue: Bool)
        case chunkData(HTTPRequest, remaining: Int)
        case chunkDataEnd(HTTPRequest)
        case trailers(HTTPRequest, bytesSeen: Int)
    }

    public init(maxHeaderBytes: Int = 16 * 1024, maxBodyBytes: Int = 1024 * 1024) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// Appends bytes received from the client.
    public mutating func append(_ bytes: [UInt8]) {
        if start > 0, start * 2 >= buffer.count {
            buffer.removeFirst(start)
            headScanFrom -= start
            start = 0
        }
        buffer += bytes
    }

    /// Bytes received and not yet consumed by a returned request.
    public var bufferedByteCount: Int { buffer.count - start }

    /// True while the parser is in the middle of a request head, as opposed to between requests.
    public var isReadingHead: Bool {
        if case .head = state { return bufferedByteCount > 0 }
        return false
    }

    /// True between a complete request head and the end of its body.
    public var isReadingBody: Bool {
        if case .head = state { return false }
        return true
    }

    /// Removes and returns every unconsumed byte, for a protocol upgrade that takes over the stream.
    public mutating func takeBufferedBytes() -> [UInt8] {
        let rest = Array(buffer[start...])
        buffer = []
        start = 0
        headScanFrom = 0
        state = .head
        return rest
    }

    /// Parses as far as the buffered bytes allow.
    ///
    /// - Returns: the next event, or nil when more bytes are needed.
    /// - Throws: ``HTTPError`` with the status to answer; see the type's documentation.
    public mutating func next() throws(HTTPError) -> HTTPParserEvent? {
        while true {
            switch state {
            case .head:
                guard let request = try parseHead() else { return nil }
                if let event = try beginBody(request) { return event }
            case .fixedBody(let request, let remaining, let announced):
                if bufferedByteCount < remaining {
                    guard !announced, Self.expectsContinue(request) else { return nil }
                    state = .fixedBody(request, remaining: remaining, announcedContinue: true)
                    return .continueExpected
                }
                var complete = request
                complete.body = Array(buffer[start..<start + remaining])
                start += remaining
                return finish(complete)
            case .chunkSize, .chunkData, .chunkDataEnd, .trailers:
                if let event = try parseChunked() { return event }
                if case .head = state { continue }
                return nil
            }
        }
    }

    /// Chooses the body framing for a parsed head; returns an event when the request is complete.
    mutating func beginBody(_ request: HTTPRequest) throws(HTTPError) -> HTTPParserEvent? {
        switch try bodyFraming(request.headers) {
        case .none:
            return finish(request)
        case .length(let length):
            state = .fixedBody(request, remaining: length, announcedContinue: false)
            return nil
        case .chunked:
            state = .chunkSize(request, announcedContinue: false)
            return nil
        }
    }

    /// True when the client waits for `100 Continue` before sending the body.
    static func expectsContinue(_ request: HTTPRequest) -> Bool {
        request.headers["Expect"]?.caseInsensitiveEquals("100-continue") == true
    }

    /// Resets for the next request and returns the completed one.
    mutating func finish(_ request: HTTPRequest) -> HTTPParserEvent {
        state = .head
        headScanFrom = start
        return .request(request)
    }
}
