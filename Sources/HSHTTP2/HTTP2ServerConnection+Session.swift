internal import CNGHTTP2

extension HTTP2ServerConnection {
    /// Creates the nghttp2 server session with this connection as its `user_data`.
    ///
    /// The session stores an unretained pointer to `self`, which is safe because `deinit` deletes the session.
    /// No `nghttp2_option` is set: the library defaults already limit RST_STREAM floods, CONTINUATION frames
    /// and SETTINGS entries (the installed 1.52 headers declare those options).
    func makeSession() throws(HTTP2Error) -> OpaquePointer {
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else {
            throw HTTP2Error("allocating nghttp2 callbacks failed (out of memory)")
        }
        defer { nghttp2_session_callbacks_del(callbacks) }
        Self.installCallbacks(callbacks)

        var session: OpaquePointer?
        let userData = Unmanaged.passUnretained(self).toOpaque()
        let result = nghttp2_session_server_new(&session, callbacks, userData)
        guard result == 0, let session else {
            throw HTTP2Error("creating the nghttp2 server session failed", libraryCode: result)
        }
        return session
    }

    /// Queues the server SETTINGS frame and enlarges the connection receive window to the stream window.
    func submitSettings() throws(HTTP2Error) {
        var entries = [
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                value: settings.maxConcurrentStreams
            ),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                value: settings.initialWindowSize
            ),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
                value: settings.maxHeaderListSize
            ),
        ]
        let flags = UInt8(NGHTTP2_FLAG_NONE.rawValue)
        let result = nghttp2_submit_settings(session, flags, &entries, entries.count)
        guard result == 0 else {
            throw HTTP2Error("submitting the server SETTINGS frame failed", libraryCode: result)
        }
        // The default connection window (65,535 bytes) would throttle every body below the stream window.
        let window = Int32(max(settings.initialWindowSize, 65_535))
        let windowResult = nghttp2_session_set_local_window_size(session, flags, 0, window)
        guard windowResult == 0 else {
            throw HTTP2Error("setting the connection receive window to \(window) failed", libraryCode: windowResult)
        }
    }

    private static func installCallbacks(_ callbacks: OpaquePointer) {
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, userData in
            guard let frame else { return 0 }
            return connection(userData).beginHeaders(frame)
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
            guard let frame, let name, let value else { return 0 }
            let field = HeaderField(
                name: UnsafeBufferPointer(start: name, count: nameLength),
                value: UnsafeBufferPointer(start: value, count: valueLength)
            )
            return connection(userData).receiveHeader(field, streamID: frame.pointee.hd.stream_id)
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) {
            _,
            _,
            streamID,
            data,
            length,
            userData in
            guard let data else { return 0 }
            connection(userData).receiveBody(UnsafeBufferPointer(start: data, count: length), streamID: streamID)
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            guard let frame else { return 0 }
            connection(userData).frameReceived(frame)
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { _, frame, userData in
            guard let frame else { return 0 }
            connection(userData).frameSent(frame)
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, _, userData in
            connection(userData).streamClosed(streamID)
            return 0
        }
    }
}

/// Returns the connection that owns a session, from the `user_data` pointer nghttp2 passes to callbacks.
func connection(_ userData: UnsafeMutableRawPointer?) -> HTTP2ServerConnection {
    Unmanaged<HTTP2ServerConnection>.fromOpaque(userData!).takeUnretainedValue()
}

/// One header field as nghttp2 passes it to the header callback; valid only during that callback.
struct HeaderField {
    let name: UnsafeBufferPointer<UInt8>
    let value: UnsafeBufferPointer<UInt8>

    /// The field's size as SETTINGS_MAX_HEADER_LIST_SIZE counts it (RFC 9113 section 6.5.2).
    var listSize: Int { name.count + value.count + 32 }
}
