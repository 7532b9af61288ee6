import Dispatch
import HSCore
import HSPosix

/// One HTTP/1.1 connection: feeds the parser, calls the handler, writes responses, runs timeouts.
///
/// `@unchecked Sendable` invariant: every stored `var` is touched only on `stream.queue`; responders
/// hop there before calling in.
final class HTTPConnection: ByteStreamHandler, @unchecked Sendable {
    let stream: any ByteStream
    let isSecure: Bool
    let configuration: HTTPServerConfiguration
    let handler: any HTTPHandler
    let logger: Logger
    let offenders: RateLimitedLog

    var parser: HTTPRequestParser
    var phase = Phase.reading
    /// Requests handed to the handler so far; it numbers responders so a stale one is ignored.
    var requestCount = 0
    var timer: (any DispatchSourceTimer)?
    var timerKind = TimerKind.none
    /// Unsent response bytes when the drain timer was last armed, to tell a slow reader from a stalled one.
    var pendingAtDrainCheck = 0

    enum Phase {
        /// Waiting for, or reading, the next request.
        case reading
        /// The handler has request number `sequence` and has not answered yet.
        case responding(InFlight)
        /// Responses already written wait in the send buffer beyond `maxPendingResponseBytes`, so
        /// no further request is parsed until the client reads them.
        case awaitingDrain
        /// A responder upgraded the connection; another protocol owns the stream now.
        case upgraded
        case closed
    }

    /// What the connection remembers about the request the handler is answering.
    struct InFlight {
        let sequence: Int
        let method: String
        let path: String
        let version: HTTPVersion
        let keepAlive: Bool
    }

    init(
        stream: any ByteStream,
        isSecure: Bool,
        configuration: HTTPServerConfiguration,
        handler: any HTTPHandler,
        logger: Logger,
        offenders: RateLimitedLog
    ) {
        self.stream = stream
        self.isSecure = isSecure
        self.configuration = configuration
        self.handler = handler
        self.logger = logger
        self.offenders = offenders
        self.parser = HTTPRequestParser(
            maxHeaderBytes: configuration.maxHeaderBytes,
            maxBodyBytes: configuration.maxBodyBytes
        )
    }

    func start() {
        stream.setHandler(self)
        armTimer(.header)
    }

    func stream(_ stream: any ByteStream, didRead bytes: [UInt8]) {
        switch phase {
        case .reading:
            parser.append(bytes)
            processBuffered()
        case .responding, .awaitingDrain:
            parser.append(bytes)
            if parser.bufferedByteCount > configuration.maxPipelinedBytes {
                logger.info(
                    "closing connection: client sent too many bytes ahead of a pending response",
                    [("limit", String(configuration.maxPipelinedBytes))]
                )
                shutDown()
            }
        case .upgraded, .closed:
            return
        }
    }

    func streamDidClose(_ stream: any ByteStream) {
        phase = .closed
        cancelTimer()
    }

    func streamDidDrain(_ stream: any ByteStream) {
        guard case .awaitingDrain = phase else { return }
        phase = .reading
        cancelTimerKind()
        processBuffered()
    }

    /// Parses and dispatches until a request is with the handler or more bytes are needed.
    func processBuffered() {
        do {
            while case .reading = phase, let event = try parser.next() {
                switch event {
                case .continueExpected:
                    stream.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                case .request(let request):
                    dispatch(request)
                }
            }
        } catch {
            reject(error)
            return
        }
        if case .reading = phase { updateReadTimer() }
    }

    /// Hands a complete request to the handler.
    func dispatch(_ request: HTTPRequest) {
        var request = request
        request.remoteAddress = ClientAddress.resolve(
            peer: stream.remoteAddress,
            headers: request.headers,
            trusted: configuration.trustedProxies
        )
        request.isSecure = isSecure
        requestCount += 1
        // A complete request head (after the TLS handshake, if any) is what lifts a connection out
        // of the listener's tighter caps on unfinished connections.
        if requestCount == 1 { ConnectionLease.of(stream.queue)?.markEstablished() }
        let inFlight = InFlight(
            sequence: requestCount,
            method: request.method,
            path: request.path,
            version: request.version,
            keepAlive: Self.wantsKeepAlive(request)
        )
        phase = .responding(inFlight)
        // A handler may hold a request open as long as it likes (long polls), so no timer runs.
        cancelTimerKind()
        handler.handle(request, responder: ConnectionResponder(connection: self, sequence: inFlight.sequence))
    }

    /// Sends an error response for a request the parser rejected, then closes.
    func reject(_ error: HTTPError) {
        logger.debug("rejected request", [("status", String(error.status)), ("error", error.message)])
        offenders.note(
            "rejected an invalid HTTP request and closed the connection",
            kind: "http-rejected",
            peer: stream.remoteAddress,
            [("status", String(error.status)), ("error", error.message)]
        )
        let response = HTTPResponse.text(error.status, error.message + "\n")
        var dropped = 0
        let date = HTTPResponse.currentHTTPDate()
        stream.write(response.serialized(omitBody: false, closeConnection: true, date: date, droppedFields: &dropped))
        shutDown()
    }

    func shutDown() {
        phase = .closed
        cancelTimer()
        stream.close()
    }

    /// RFC 9112 section 9.3: HTTP/1.1 stays open unless `close`; HTTP/1.0 closes unless `keep-alive`.
    static func wantsKeepAlive(_ request: HTTPRequest) -> Bool {
        let options = connectionOptions(request.headers)
        if options.contains("close") { return false }
        return request.version == .http11 || options.contains("keep-alive")
    }

    /// The lowercased tokens of every `Connection` field.
    static func connectionOptions(_ headers: HTTPHeaders) -> [String] {
        headers.values("Connection").flatMap { $0.split(separator: ",") }.map {
            $0.trimmingASCIIWhitespace().lowercased()
        }
    }
}
