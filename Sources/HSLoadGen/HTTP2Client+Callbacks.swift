internal import CNGHTTP2

extension HTTP2Client {
    /// Installs the callbacks that turn nghttp2's frames into ``HTTP2ClientEvent`` values.
    static func installCallbacks(_ callbacks: OpaquePointer) {
        nghttp2_session_callbacks_set_on_header_callback(callbacks) {
            _,
            frame,
            name,
            nameLength,
            value,
            valueLength,
            _,
            userData in
            let isStatus =
                nameLength == 7
                && String(decoding: UnsafeBufferPointer(start: name, count: nameLength), as: UTF8.self)
                    == ":status"
            guard isStatus, let frame else { return 0 }
            let text = String(decoding: UnsafeBufferPointer(start: value, count: valueLength), as: UTF8.self)
            let client = HTTP2Client.client(userData)
            client.events.append(.response(streamID: frame.pointee.hd.stream_id, status: Int(text) ?? 0))
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) {
            _,
            _,
            streamID,
            data,
            length,
            userData in
            let client = HTTP2Client.client(userData)
            let bytes = Array(UnsafeBufferPointer(start: data, count: length))
            client.events.append(.data(streamID: streamID, bytes: bytes))
            return 0
        }
        nghttp2_session_callbacks_set_error_callback2(callbacks) { _, _, message, length, userData in
            let client = HTTP2Client.client(userData)
            if client.protocolError == nil, let message {
                let text = UnsafeRawBufferPointer(start: message, count: length)
                client.protocolError = String(decoding: text, as: UTF8.self)
            }
            return 0
        }
        // nghttp2 answers most protocol errors by queueing a GOAWAY rather than returning an error.
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { _, frame, userData in
            guard let frame, frame.pointee.hd.type == UInt8(NGHTTP2_GOAWAY.rawValue) else { return 0 }
            let code = frame.pointee.goaway.error_code
            let client = HTTP2Client.client(userData)
            if code != 0, client.protocolError == nil {
                client.protocolError = "the client sent GOAWAY with HTTP/2 error code \(code)"
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, errorCode, userData in
            let client = HTTP2Client.client(userData)
            client.pendingBodies[streamID] = nil
            client.events.append(.closed(streamID: streamID, errorCode: errorCode))
            return 0
        }
    }
}
