/// A complete HTTP/2 request: the header block and the whole body, available once the peer sent END_STREAM.
///
/// Pseudo-header fields (`:method`, `:path`, `:authority`, `:scheme`) appear only in their own properties.
/// `headers` contains the regular fields in arrival order, with lowercase names as HTTP/2 requires.
/// Trailer fields are not kept.
public struct HTTP2Request: Sendable {
    /// The client-initiated (odd) stream identifier that carries the request.
    public let streamID: Int32
    public let method: String
    public let path: String
    /// The `:authority` pseudo-header, or an empty string when absent.
    public let authority: String
    /// The `:scheme` pseudo-header, or an empty string when absent (CONNECT requests).
    public let scheme: String
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]

    /// Creates a request value, for example in tests of code that consumes requests.
    public init(
        streamID: Int32,
        method: String,
        path: String,
        authority: String,
        scheme: String = "https",
        headers: [(name: String, value: String)],
        body: [UInt8]
    ) {
        self.streamID = streamID
        self.method = method
        self.path = path
        self.authority = authority
        self.scheme = scheme
        self.headers = headers
        self.body = body
    }

    /// Returns the value of the first regular header field named `name` (compared case-insensitively).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name == lowered }?.value
    }
}

/// Receives the requests and stream closures of one ``HTTP2ServerConnection``.
///
/// Callbacks run on the caller's queue, from inside ``HTTP2ServerConnection/receive(_:)`` or
/// ``HTTP2ServerConnection/takeOutput()``, after nghttp2 has returned, so a callback may call any method
/// of the connection, including `sendResponse` and `takeOutput`.
public protocol HTTP2ServerDelegate: AnyObject {
    /// A request arrived complete (END_STREAM seen). Called synchronously from inside `receive(_:)`.
    func connection(_ connection: HTTP2ServerConnection, didReceive request: HTTP2Request)
    /// The stream ended (completed, reset by the peer, or failed). Called once per stream that delivered a request.
    func connection(_ connection: HTTP2ServerConnection, streamDidClose streamID: Int32)
    /// The server refused a stream the peer opened: a body over the limit (413), or a reset that
    /// nghttp2 sent on its own, such as for a stream over the concurrency limit or a header list
    /// over its limit. `reason` names which, for the log.
    func connection(_ connection: HTTP2ServerConnection, didRefuseStream streamID: Int32, reason: String)
}

extension HTTP2ServerDelegate {
    public func connection(_ connection: HTTP2ServerConnection, didRefuseStream streamID: Int32, reason: String) {}
}

/// Limits and flow-control values that the server announces in its first SETTINGS frame and enforces.
public struct HTTP2Settings: Sendable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS: nghttp2 refuses further streams with RST_STREAM REFUSED_STREAM.
    public var maxConcurrentStreams: UInt32
    /// SETTINGS_INITIAL_WINDOW_SIZE for request bodies, in bytes; at most 2^31-1.
    public var initialWindowSize: UInt32
    /// SETTINGS_MAX_HEADER_LIST_SIZE in bytes, counted as RFC 9113 section 6.5.2 defines it
    /// (name length + value length + 32 per field). A larger request is reset with INTERNAL_ERROR.
    public var maxHeaderListSize: UInt32
    /// Largest request body in bytes. A larger body gets status 413 and RST_STREAM NO_ERROR, and no delegate call.
    ///
    /// NOTE: bodies are buffered whole, so one connection may hold up to
    /// `maxConcurrentStreams * maxRequestBodyBytes` bytes (100 MiB with the defaults).
    public var maxRequestBodyBytes: Int

    /// Creates settings; the defaults suit Tailscale's control requests.
    public init(
        maxConcurrentStreams: UInt32 = 100,
        initialWindowSize: UInt32 = 1 << 20,
        maxHeaderListSize: UInt32 = 64 << 10,
        maxRequestBodyBytes: Int = 1 << 20
    ) {
        self.maxConcurrentStreams = maxConcurrentStreams
        self.initialWindowSize = initialWindowSize
        self.maxHeaderListSize = maxHeaderListSize
        self.maxRequestBodyBytes = maxRequestBodyBytes
    }
}

/// A failure of an HTTP/2 connection: invalid settings, a protocol violation by the peer, or an nghttp2 error.
public struct HTTP2Error: Error, CustomStringConvertible {
    /// A sentence naming the failed step, the value involved and the next step for the caller.
    public let message: String
    /// The nghttp2 library error code (negative, `nghttp2_error`), when nghttp2 reported the failure.
    public let libraryCode: Int32?

    public var description: String {
        guard let libraryCode else { return message }
        return "\(message) (nghttp2 error \(libraryCode))"
    }

    init(_ message: String, libraryCode: Int32? = nil) {
        self.message = message
        self.libraryCode = libraryCode
    }
}
