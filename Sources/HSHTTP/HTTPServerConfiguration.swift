/// Limits and timeouts for ``HTTPServer`` connections.
public struct HTTPServerConfiguration: Sendable {
    /// The largest request line plus header fields, in bytes; more gets 431.
    public var maxHeaderBytes: Int = 16 * 1024
    /// The largest request body, in bytes, framed by `Content-Length` or chunked; more gets 413.
    public var maxBodyBytes: Int = 1024 * 1024
    /// How long a kept-alive connection may wait for the first byte of its next request, and how
    /// long a request body may go without progress.
    public var idleTimeout: Duration = .seconds(60)
    /// How long a client has to send a complete request head, counted from the connection's accept
    /// for the first request and from the first byte for later ones.
    public var headerReadTimeout: Duration = .seconds(10)
    /// Response bytes that may wait in the send buffer before the connection stops parsing further
    /// pipelined requests. The connection resumes once the client has read them all, and closes
    /// when the client reads none of them for `idleTimeout`.
    public var maxPendingResponseBytes: Int = 1024 * 1024
    /// Networks of reverse proxies whose `True-Client-IP`, `X-Real-IP` and `X-Forwarded-For`
    /// headers set ``HTTPRequest/remoteAddress``. Empty (the default) ignores those headers.
    public var trustedProxies: [IPNetwork] = []

    public init(
        maxHeaderBytes: Int = 16 * 1024,
        maxBodyBytes: Int = 1024 * 1024,
        idleTimeout: Duration = .seconds(60),
        headerReadTimeout: Duration = .seconds(10),
        maxPendingResponseBytes: Int = 1024 * 1024,
        trustedProxies: [IPNetwork] = []
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.idleTimeout = idleTimeout
        self.headerReadTimeout = headerReadTimeout
        self.maxPendingResponseBytes = maxPendingResponseBytes
        self.trustedProxies = trustedProxies
    }

    /// Bytes a client may send ahead while its previous request is still being answered; beyond
    /// this the connection is closed, because nothing in the ``ByteStream`` API can pause reading.
    var maxPipelinedBytes: Int { maxHeaderBytes + maxBodyBytes }
}
