internal import CNGHTTP2

/// What an ``HTTP2Client`` saw while it consumed server bytes, in arrival order.
public enum HTTP2ClientEvent: Equatable, Sendable {
    /// The response header block of a stream arrived with this `:status`.
    case response(streamID: Int32, status: Int)
    /// DATA bytes of a stream arrived.
    case data(streamID: Int32, bytes: [UInt8])
    /// A stream closed; `errorCode` is 0 for a normal end and the RST_STREAM code otherwise.
    case closed(streamID: Int32, errorCode: UInt32)
}

/// A sans-IO HTTP/2 client session with prior knowledge, on libnghttp2.
///
/// Feed the server's bytes to ``receive(_:)`` and send what ``takeOutput()`` returns. The session
/// starts like Tailscale's Go client: preface, SETTINGS with push off and a 4 MiB stream window,
/// then a connection WINDOW_UPDATE to 1 GiB. nghttp2 sends stream and connection WINDOW_UPDATEs
/// on its own as DATA is consumed.
///
/// Not thread-safe: confine a value to one serial queue. nghttp2 stores an unretained pointer to
/// `self`, which is safe because `deinit` deletes the session.
public final class HTTP2Client {
    private var session: OpaquePointer!
    /// Request bodies not yet handed to nghttp2's data provider, by stream.
    var pendingBodies: [Int32: [UInt8]] = [:]
    /// Events collected by the callbacks during one ``receive(_:)``.
    var events: [HTTP2ClientEvent] = []
    /// The connection error nghttp2 reported or answered with a GOAWAY; the session is over once
    /// it is set. A GOAWAY is only known after ``takeOutput()`` produced it.
    public internal(set) var protocolError: String?

    /// Creates the session and queues the connection preface and SETTINGS.
    /// - Throws: ``LoadGenError`` when nghttp2 cannot allocate the session.
    public init() throws(LoadGenError) {
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else {
            throw LoadGenError("allocating nghttp2 callbacks failed (out of memory)")
        }
        defer { nghttp2_session_callbacks_del(callbacks) }
        Self.installCallbacks(callbacks)
        var created: OpaquePointer?
        let result = nghttp2_session_client_new(&created, callbacks, Unmanaged.passUnretained(self).toOpaque())
        guard result == 0, let created else {
            throw LoadGenError("creating the nghttp2 client session failed with code \(result)")
        }
        session = created
        var entries = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: 4 << 20),
        ]
        nghttp2_submit_settings(session, 0, &entries, entries.count)
        nghttp2_session_set_local_window_size(session, 0, 0, 1 << 30)
    }

    deinit {
        nghttp2_session_del(session)
    }

    /// Queues a request and returns its stream identifier.
    ///
    /// `:scheme` is `https` and `:authority` is `authority`, as the Go client sends them inside Noise.
    /// - Throws: ``LoadGenError`` when nghttp2 rejects the request (for example when stream ids ran out).
    public func request(method: String, path: String, authority: String, body: [UInt8]) throws(LoadGenError) -> Int32 {
        let fields = [(":method", method), (":scheme", "https"), (":authority", authority), (":path", path)]
        var provider = nghttp2_data_provider()
        provider.read_callback = { _, streamID, buffer, length, flags, _, userData in
            let client = HTTP2Client.client(userData)
            return client.copyBody(streamID: streamID, into: buffer!, capacity: length, flags: flags!)
        }
        let streamID = withHeaderPairs(fields) { pairs in
            nghttp2_submit_request(session, nil, pairs.baseAddress, pairs.count, &provider, nil)
        }
        guard streamID > 0 else {
            throw LoadGenError("submitting \(method) \(path) failed with nghttp2 code \(streamID)")
        }
        pendingBodies[streamID] = body
        return streamID
    }

    /// Consumes server bytes and returns the events they completed.
    /// - Throws: ``LoadGenError`` when the bytes break the HTTP/2 protocol or end the session;
    ///   the session is then unusable.
    public func receive(_ bytes: [UInt8]) throws(LoadGenError) -> [HTTP2ClientEvent] {
        if let protocolError {
            throw LoadGenError("the HTTP/2 session is over: \(protocolError)")
        }
        events.removeAll(keepingCapacity: true)
        let result = bytes.withUnsafeBufferPointer { nghttp2_session_mem_recv(session, $0.baseAddress, $0.count) }
        guard result >= 0 else {
            throw LoadGenError("the server's HTTP/2 bytes were rejected by nghttp2 with code \(result)")
        }
        if let protocolError {
            throw LoadGenError("the server broke the HTTP/2 protocol: \(protocolError)")
        }
        return events
    }

    /// Returns every frame nghttp2 has ready to send, possibly none.
    public func takeOutput() -> [UInt8] {
        var output: [UInt8] = []
        while true {
            var chunk: UnsafePointer<UInt8>?
            let length = nghttp2_session_mem_send(session, &chunk)
            guard length > 0, let chunk else { return output }
            output.append(contentsOf: UnsafeBufferPointer(start: chunk, count: length))
        }
    }

    private func copyBody(
        streamID: Int32,
        into buffer: UnsafeMutablePointer<UInt8>,
        capacity: Int,
        flags: UnsafeMutablePointer<UInt32>
    ) -> Int {
        var body = pendingBodies[streamID] ?? []
        let count = min(capacity, body.count)
        body.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: count) }
        body.removeFirst(count)
        if body.isEmpty {
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            pendingBodies[streamID] = nil
        } else {
            pendingBodies[streamID] = body
        }
        return count
    }

    static func client(_ userData: UnsafeMutableRawPointer?) -> HTTP2Client {
        Unmanaged<HTTP2Client>.fromOpaque(userData!).takeUnretainedValue()
    }
}

/// Calls `body` with `nghttp2_nv` pairs that point into one buffer alive for the call.
private func withHeaderPairs<Result>(
    _ fields: [(String, String)],
    _ body: (UnsafeBufferPointer<nghttp2_nv>) -> Result
) -> Result {
    var storage: [UInt8] = []
    var ranges: [(Range<Int>, Range<Int>)] = []
    for (name, value) in fields {
        let nameStart = storage.count
        storage += Array(name.utf8)
        let valueStart = storage.count
        storage += Array(value.utf8)
        ranges.append((nameStart..<valueStart, valueStart..<storage.count))
    }
    return storage.withUnsafeMutableBufferPointer { bytes in
        let pairs = ranges.map { name, value in
            nghttp2_nv(
                name: bytes.baseAddress! + name.lowerBound,
                value: bytes.baseAddress! + value.lowerBound,
                namelen: name.count,
                valuelen: value.count,
                flags: 0
            )
        }
        return pairs.withUnsafeBufferPointer(body)
    }
}
