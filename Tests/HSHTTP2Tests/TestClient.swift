import CNGHTTP2

/// An nghttp2 client session driven in memory, used to exercise the server from the other end of the wire.
///
/// Automatic WINDOW_UPDATEs are off: the test decides when the client frees flow-control window by calling
/// ``consume(streamID:)``.
final class TestClient {
    /// What the client saw on one stream.
    struct StreamRecord {
        var status: Int?
        var headers: [(name: String, value: String)] = []
        var body: [UInt8] = []
        var isClosed = false
        var closeErrorCode: UInt32?
        /// Bytes received but not yet handed back to flow control.
        var unconsumedBytes = 0
    }

    private(set) var session: OpaquePointer!
    var streams: [Int32: StreamRecord] = [:]
    /// Frame types received, in order (SETTINGS is 4).
    var receivedFrameTypes: [UInt8] = []
    var receivedGoAwayErrorCode: UInt32?
    /// Request bodies waiting for the data provider, by stream.
    private var requestBodies: [Int32: [UInt8]] = [:]

    init(settings: [(id: nghttp2_settings_id, value: UInt32)] = [], connectionWindow: Int32? = nil) {
        var callbacks: OpaquePointer?
        nghttp2_session_callbacks_new(&callbacks)
        defer { nghttp2_session_callbacks_del(callbacks) }
        Self.install(callbacks!)
        var option: OpaquePointer?
        nghttp2_option_new(&option)
        defer { nghttp2_option_del(option) }
        nghttp2_option_set_no_auto_window_update(option, 1)
        var created: OpaquePointer?
        nghttp2_session_client_new2(&created, callbacks, Unmanaged.passUnretained(self).toOpaque(), option)
        session = created
        var entries = settings.map { nghttp2_settings_entry(settings_id: Int32($0.id.rawValue), value: $0.value) }
        nghttp2_submit_settings(session, 0, &entries, entries.count)
        if let connectionWindow {
            nghttp2_submit_window_update(session, 0, 0, connectionWindow)
        }
    }

    deinit {
        nghttp2_session_del(session)
    }

    /// Submits a request and returns its stream identifier.
    @discardableResult
    func request(
        method: String = "GET",
        path: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil
    ) -> Int32 {
        var fields = [(":method", method), (":scheme", "https"), (":authority", "example.test"), (":path", path)]
        fields += headers
        var provider = nghttp2_data_provider()
        provider.read_callback = { _, streamID, buffer, length, flags, _, userData in
            let client = Unmanaged<TestClient>.fromOpaque(userData!).takeUnretainedValue()
            var pending = client.requestBodies[streamID] ?? []
            let count = min(length, pending.count)
            pending.withUnsafeBufferPointer { buffer!.update(from: $0.baseAddress!, count: count) }
            pending.removeFirst(count)
            client.requestBodies[streamID] = pending
            if pending.isEmpty { flags!.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue }
            return count
        }
        let streamID = withPairs(fields) { pairs in
            guard body != nil else {
                return nghttp2_submit_request(session, nil, pairs.baseAddress, pairs.count, nil, nil)
            }
            return nghttp2_submit_request(session, nil, pairs.baseAddress, pairs.count, &provider, nil)
        }
        if let body { requestBodies[streamID] = body }
        return streamID
    }

    /// Resets a stream from the client side.
    func reset(streamID: Int32, errorCode: UInt32 = NGHTTP2_CANCEL.rawValue) {
        nghttp2_submit_rst_stream(session, 0, streamID, errorCode)
    }

    /// Returns received DATA bytes of a stream to flow control, so the client sends WINDOW_UPDATEs.
    func consume(streamID: Int32) {
        let amount = streams[streamID]?.unconsumedBytes ?? 0
        streams[streamID]?.unconsumedBytes = 0
        nghttp2_session_consume(session, streamID, amount)
    }

    func takeOutput() -> [UInt8] {
        var output: [UInt8] = []
        while true {
            var chunk: UnsafePointer<UInt8>?
            let length = nghttp2_session_mem_send(session, &chunk)
            guard length > 0, let chunk else { return output }
            output.append(contentsOf: UnsafeBufferPointer(start: chunk, count: length))
        }
    }

    /// Feeds server bytes; returns nghttp2's result (negative on a fatal error).
    @discardableResult
    func receive(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBufferPointer { nghttp2_session_mem_recv(session, $0.baseAddress, $0.count) }
    }

    private static func client(_ userData: UnsafeMutableRawPointer?) -> TestClient {
        Unmanaged<TestClient>.fromOpaque(userData!).takeUnretainedValue()
    }

    private static func install(_ callbacks: OpaquePointer) {
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            let client = TestClient.client(userData)
            let header = frame!.pointee.hd
            client.receivedFrameTypes.append(header.type)
            if header.type == UInt8(NGHTTP2_GOAWAY.rawValue) {
                client.receivedGoAwayErrorCode = frame!.pointee.goaway.error_code
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) {
            _,
            frame,
            name,
            nameLength,
            value,
            valueLength,
            _,
            userData in
            let client = TestClient.client(userData)
            let streamID = frame!.pointee.hd.stream_id
            let name = String(decoding: UnsafeBufferPointer(start: name, count: nameLength), as: UTF8.self)
            let value = String(decoding: UnsafeBufferPointer(start: value, count: valueLength), as: UTF8.self)
            if name == ":status" {
                client.streams[streamID, default: StreamRecord()].status = Int(value)
            } else {
                client.streams[streamID, default: StreamRecord()].headers.append((name, value))
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) {
            _,
            _,
            streamID,
            data,
            length,
            userData in
            let client = TestClient.client(userData)
            client.streams[streamID, default: StreamRecord()].body.append(
                contentsOf: UnsafeBufferPointer(start: data, count: length)
            )
            client.streams[streamID, default: StreamRecord()].unconsumedBytes += length
            // Connection-level window is returned at once; stream windows stay under the test's control.
            nghttp2_session_consume_connection(client.session, length)
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, errorCode, userData in
            let client = TestClient.client(userData)
            client.streams[streamID, default: StreamRecord()].isClosed = true
            client.streams[streamID, default: StreamRecord()].closeErrorCode = errorCode
            return 0
        }
    }
}

/// Calls `body` with `nghttp2_nv` pairs pointing into one buffer that lives for the call.
private func withPairs<Result>(
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
