import Dispatch
import HSCore
import HSPosix
import Synchronization

extension HTTPConnection {
    /// Writes the response to request `sequence`, then reads the next request or closes.
    func finish(_ sequence: Int, _ response: HTTPResponse) {
        guard case .responding(let inFlight) = phase, inFlight.sequence == sequence else { return }
        let close = !inFlight.keepAlive || Self.connectionOptions(response.headers).contains("close")
        var response = response
        if !close, inFlight.version == .http10 { response.headers.set("Connection", "keep-alive") }

        var dropped = 0
        let bytes = response.serialized(
            omitBody: inFlight.method == "HEAD",
            closeConnection: close,
            date: HTTPResponse.currentHTTPDate(),
            droppedFields: &dropped
        )
        if dropped > 0 {
            logger.error("dropped response header fields containing CR, LF or NUL", [("count", String(dropped))])
        }
        stream.write(bytes)
        logger.debug(
            "request",
            [("method", inFlight.method), ("path", inFlight.path), ("status", String(response.status))]
        )

        if close {
            shutDown()
        } else if stream.pendingWriteBytes > configuration.maxPendingResponseBytes {
            // A client that pipelines requests without reading the responses would otherwise make
            // the send buffer grow without bound; parsing resumes when the stream drains.
            phase = .awaitingDrain
            pendingAtDrainCheck = stream.pendingWriteBytes
            armTimer(.drain)
        } else {
            phase = .reading
            processBuffered()
        }
    }

    /// Answers 500 for request `sequence` when its responder was released unused.
    func abandoned(_ sequence: Int) {
        guard case .responding(let inFlight) = phase, inFlight.sequence == sequence else { return }
        logger.error(
            "handler released the responder without answering; sending 500",
            [("method", inFlight.method), ("path", inFlight.path)]
        )
        finish(sequence, .text(500, "internal server error\n"))
    }

    /// Writes `head` for request `sequence` and gives the stream and unread bytes to `then`.
    func upgrade(_ sequence: Int, _ head: HTTPResponse, then: @Sendable (any ByteStream, [UInt8]) -> Void) {
        guard case .responding(let inFlight) = phase, inFlight.sequence == sequence else { return }
        phase = .upgraded
        cancelTimer()
        var dropped = 0
        let bytes = head.serialized(
            omitBody: true,
            includeContentLength: false,
            closeConnection: false,
            date: HTTPResponse.currentHTTPDate(),
            droppedFields: &dropped
        )
        stream.write(bytes)
        logger.debug("upgraded connection", [("method", inFlight.method), ("path", inFlight.path)])
        then(stream, parser.takeBufferedBytes())
    }
}

/// The ``HTTPResponder`` for one request; the first `respond` or `upgrade` wins.
///
/// A responder released without an answer sends 500, so a handler bug cannot hang the connection.
final class ConnectionResponder: HTTPResponder {
    let connection: HTTPConnection
    let sequence: Int
    private let answered = Atomic<Bool>(false)

    init(connection: HTTPConnection, sequence: Int) {
        self.connection = connection
        self.sequence = sequence
    }

    deinit {
        guard !answered.load(ordering: .acquiring) else { return }
        let connection = self.connection
        let sequence = self.sequence
        connection.stream.queue.async { connection.abandoned(sequence) }
    }

    func respond(_ response: HTTPResponse) {
        guard claim() else { return }
        let connection = self.connection
        let sequence = self.sequence
        connection.stream.queue.async { connection.finish(sequence, response) }
    }

    func upgrade(_ head: HTTPResponse, then: @escaping @Sendable (any ByteStream, [UInt8]) -> Void) {
        guard claim() else { return }
        let connection = self.connection
        let sequence = self.sequence
        connection.stream.queue.async { connection.upgrade(sequence, head, then: then) }
    }

    private func claim() -> Bool {
        !answered.exchange(true, ordering: .acquiringAndReleasing)
    }
}
