internal import CNGHTTP2

/// The server side of one HTTP/2 connection over libnghttp2, without I/O of its own.
///
/// Feed the peer's bytes to ``receive(_:)`` and write what ``takeOutput()`` returns. The client must open
/// with the connection preface (prior knowledge, no `Upgrade: h2c`). The first output is the server's SETTINGS
/// frame, because Go's HTTP/2 client requires it as the first frame it reads. Server push is never used.
///
/// Threading: not `Sendable`. Every call, and every delegate callback it causes, happens on the caller's
/// serial queue. The delegate is held weakly.
public final class HTTP2ServerConnection {
    let settings: HTTP2Settings
    weak var delegate: (any HTTP2ServerDelegate)?
    /// The nghttp2 session; set once in `init` and deleted in `deinit`.
    private(set) var session: OpaquePointer!
    /// Open streams by identifier; an entry is removed when nghttp2 closes the stream.
    var streams: [Int32: HTTP2Stream] = [:]
    /// Delegate callbacks collected inside nghttp2 callbacks, run once nghttp2 has returned.
    var pendingEvents: [Event] = []
    /// Bytes serialized by nghttp2 but not yet returned by `takeOutput()`.
    var pendingOutput: [UInt8] = []
    /// The error that ended the connection, set once.
    var failure: HTTP2Error?
    /// The application asked for GOAWAY, so a sent GOAWAY is not a protocol failure.
    var isGoingAway = false
    /// ``close()`` ran: the transport is gone and no stream remains.
    var isClosed = false

    enum Event {
        case request(HTTP2Request)
        case closed(Int32)
        case refused(Int32, String)
    }

    /// Creates a server session and queues its SETTINGS frame as the first output.
    ///
    /// - Throws: ``HTTP2Error`` when a setting is out of range or nghttp2 cannot create the session.
    public init(settings: HTTP2Settings = .init(), delegate: any HTTP2ServerDelegate) throws(HTTP2Error) {
        try Self.validate(settings)
        self.settings = settings
        self.delegate = delegate
        session = try makeSession()
        try submitSettings()
    }

    deinit {
        nghttp2_session_del(session)
    }

    /// The error that ended the connection, or `nil` while it is healthy.
    public var connectionError: HTTP2Error? { failure }

    /// Feeds bytes read from the peer and serializes any frames nghttp2 queues in reply.
    ///
    /// Delegate callbacks for completed requests and closed streams run before this returns.
    /// - Throws: ``HTTP2Error`` when the peer violated the protocol (bad preface, malformed frames) or the
    ///   connection had already failed. Call ``takeOutput()`` afterwards: it may contain a GOAWAY frame to send
    ///   before closing, and ``wantsClose`` is `true` once it is sent.
    public func receive(_ bytes: [UInt8]) throws(HTTP2Error) {
        if isClosed { throw HTTP2Error("the HTTP/2 connection is closed; open a new connection") }
        if let failure { throw failure }
        let result = bytes.withUnsafeBufferPointer { buffer in
            nghttp2_session_mem_recv(session, buffer.baseAddress, buffer.count)
        }
        if result < 0 {
            fail(HTTP2Error("HTTP/2 input from the peer is invalid; close the connection", libraryCode: Int32(result)))
        } else {
            serializeOutput()
        }
        deliverEvents()
        if let failure { throw failure }
    }

    /// Returns all bytes ready to send now, serializing every frame that flow control allows.
    ///
    /// Stream-close callbacks for streams that this output finishes run before it returns.
    public func takeOutput() -> [UInt8] {
        guard !isClosed else { return [] }
        serializeOutput()
        deliverEvents()
        let output = pendingOutput
        pendingOutput = []
        return output
    }

    /// Whether the connection is finished: nghttp2 wants neither to read nor to write (after GOAWAY or a fatal error).
    ///
    /// Close the transport once this is `true` and the last ``takeOutput()`` result is written.
    public var wantsClose: Bool {
        if isClosed { return true }
        // A library error code means nghttp2 itself failed (bad preface, flooding, out of memory), and the
        // session cannot serialize a GOAWAY any more.
        if failure?.libraryCode != nil { return true }
        return nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0
    }

    /// Sends GOAWAY with `errorCode`.
    ///
    /// With `errorCode` 0 (NO_ERROR) the shutdown is graceful: streams already opened may finish, no new stream
    /// is accepted, and ``wantsClose`` becomes `true` after the last stream closes. Any other code ends the
    /// connection as soon as the GOAWAY is sent.
    public func goAway(errorCode: UInt32) {
        guard failure == nil, !isGoingAway else { return }
        isGoingAway = true
        let result: Int32
        if errorCode == 0 {
            let lastStreamID = nghttp2_session_get_last_proc_stream_id(session)
            result = nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), lastStreamID, 0, nil, 0)
        } else {
            result = nghttp2_session_terminate_session(session, errorCode)
        }
        if result != 0 {
            fail(HTTP2Error("submitting GOAWAY (error code \(errorCode)) failed", libraryCode: result))
        }
    }

    /// Ends the connection once the transport is gone: calls `streamDidClose` for every open stream that
    /// delivered a request, in stream order, and frees all stream buffers.
    ///
    /// nghttp2 reports no stream closures when a connection simply stops, so call this when the transport
    /// closes, whether or not ``wantsClose`` was `true`. Afterwards `receive` throws and `takeOutput` is empty.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        for (streamID, stream) in streams.sorted(by: { $0.key < $1.key }) where stream.isDelivered {
            pendingEvents.append(.closed(streamID))
        }
        streams = [:]
        deliverEvents()
    }

    // MARK: - Internals

    func fail(_ error: HTTP2Error) {
        if failure == nil { failure = error }
    }

    /// Runs `nghttp2_session_mem_send` until it has nothing more to send, appending to `pendingOutput`.
    private func serializeOutput() {
        while true {
            var chunk: UnsafePointer<UInt8>?
            let length = nghttp2_session_mem_send(session, &chunk)
            if length < 0 {
                fail(HTTP2Error("serializing HTTP/2 output failed; close the connection", libraryCode: Int32(length)))
                return
            }
            guard length > 0, let chunk else { return }
            pendingOutput.append(contentsOf: UnsafeBufferPointer(start: chunk, count: length))
        }
    }

    private func deliverEvents() {
        while !pendingEvents.isEmpty {
            let events = pendingEvents
            pendingEvents = []
            for event in events {
                guard let delegate else { continue }
                switch event {
                case .request(let request): delegate.connection(self, didReceive: request)
                case .closed(let streamID): delegate.connection(self, streamDidClose: streamID)
                case .refused(let streamID, let reason):
                    delegate.connection(self, didRefuseStream: streamID, reason: reason)
                }
            }
        }
    }

    private static func validate(_ settings: HTTP2Settings) throws(HTTP2Error) {
        if settings.maxConcurrentStreams == 0 {
            throw HTTP2Error("HTTP/2 maxConcurrentStreams is 0; set it to at least 1")
        }
        if settings.initialWindowSize > UInt32(Int32.max) {
            throw HTTP2Error(
                "HTTP/2 initialWindowSize \(settings.initialWindowSize) exceeds 2147483647; use a smaller window"
            )
        }
        if settings.maxRequestBodyBytes < 0 {
            throw HTTP2Error("HTTP/2 maxRequestBodyBytes \(settings.maxRequestBodyBytes) is negative; use 0 or more")
        }
    }
}
