import HSPosix

/// Answers HTTP/1.1 requests. The server calls `handle` on the connection's queue; the handler may
/// answer at once or later from any queue through the ``HTTPResponder``.
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest, responder: any HTTPResponder)
}

/// The way back to the client for one request. Exactly one of `respond` or `upgrade` must be called,
/// once; later calls are ignored. Both may be called from any queue.
public protocol HTTPResponder: Sendable {
    /// Sends `response`, then reads the next request on the connection (or closes it when the
    /// request asked for `Connection: close`).
    func respond(_ response: HTTPResponse)

    /// Sends `head` (normally `101 Switching Protocols`, written without a body or `Content-Length`)
    /// and stops HTTP processing on the connection. `then` runs on the stream's queue after the
    /// head is queued; it receives the raw stream and any bytes the client sent after the request.
    /// It must install its own ``ByteStreamHandler`` on the stream.
    func upgrade(_ head: HTTPResponse, then: @escaping @Sendable (any ByteStream, [UInt8]) -> Void)
}
