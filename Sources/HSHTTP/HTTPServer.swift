import Dispatch
import HSCore
import HSPosix

/// An HTTP/1.1 server for accepted byte streams (plain TCP, TLS or unix sockets).
///
/// Each connection runs on its stream's queue. Requests on one connection are answered strictly in
/// order: bytes of pipelined requests wait in the parser until the previous response is sent.
/// Connections stay open (HTTP/1.1 by default, HTTP/1.0 with `Connection: keep-alive`) until the
/// client asks for `Connection: close`, a response carries it, a request is rejected, or a timeout
/// from ``HTTPServerConfiguration`` passes.
public final class HTTPServer: Sendable {
    public let configuration: HTTPServerConfiguration
    let handler: any HTTPHandler
    let logger: Logger
    /// One warning per client address and offence per 10 s for rejected requests and slow heads.
    let offenders: RateLimitedLog

    public init(
        configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
        handler: any HTTPHandler,
        logger: Logger
    ) {
        self.configuration = configuration
        self.handler = handler
        self.logger = logger
        self.offenders = RateLimitedLog(logger: logger.with("component", "http"))
    }

    /// Takes over `stream`: installs the server as its handler and starts reading requests.
    ///
    /// May be called from any queue. `isSecure` is copied into every request's `isSecure`.
    public func serve(_ stream: any ByteStream, isSecure: Bool) {
        let connection = HTTPConnection(
            stream: stream,
            isSecure: isSecure,
            configuration: configuration,
            handler: handler,
            logger: logger.with("peer", stream.remoteAddress),
            offenders: offenders
        )
        stream.queue.async { connection.start() }
    }
}
