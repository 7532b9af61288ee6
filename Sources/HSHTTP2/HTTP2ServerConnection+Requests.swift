internal import CNGHTTP2

/// Request assembly, driven by nghttp2 callbacks during `nghttp2_session_mem_recv`.
///
/// nghttp2 has already validated the header block (pseudo-headers, forbidden connection-specific fields,
/// content-length against the DATA received) because HTTP messaging checks are on by default.
extension HTTP2ServerConnection {
    func beginHeaders(_ frame: UnsafePointer<nghttp2_frame>) -> Int32 {
        let streamID = frame.pointee.hd.stream_id
        guard frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue) else { return 0 }
        if frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST {
            streams[streamID] = HTTP2Stream()
        } else {
            streams[streamID]?.isReceivingTrailers = true
        }
        return 0
    }

    /// Stores one request header field, or rejects the stream once the header list exceeds the limit.
    func receiveHeader(_ field: HeaderField, streamID: Int32) -> Int32 {
        // Reading single fields and mutating through the dictionary subscript keeps the arrays uniquely
        // referenced, so appends do not copy them.
        guard streams[streamID]?.isRejected == false else { return 0 }
        let listSize = streams[streamID]!.headerListSize + field.listSize
        if listSize > Int(settings.maxHeaderListSize) {
            streams[streamID]?.isRejected = true
            streams[streamID]?.headers = []
            // nghttp2 skips the rest of this header block and resets the stream with INTERNAL_ERROR.
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue
        }
        streams[streamID]?.headerListSize = listSize
        if !streams[streamID]!.isReceivingTrailers {
            store(field, in: &streams[streamID]!)
        }
        return 0
    }

    private func store(_ field: HeaderField, in stream: inout HTTP2Stream) {
        let name = String(decoding: field.name, as: UTF8.self)
        let value = String(decoding: field.value, as: UTF8.self)
        switch name {
        case ":method": stream.method = value
        case ":path": stream.path = value
        case ":authority": stream.authority = value
        case ":scheme": stream.scheme = value
        default:
            if !name.hasPrefix(":") { stream.headers.append((name: name, value: value)) }
        }
    }

    /// Appends request body bytes, or responds 413 once the body exceeds `maxRequestBodyBytes`.
    func receiveBody(_ data: UnsafeBufferPointer<UInt8>, streamID: Int32) {
        guard streams[streamID]?.isRejected == false else { return }
        if streams[streamID]!.body.count + data.count > settings.maxRequestBodyBytes {
            rejectTooLarge(streamID: streamID)
            return
        }
        streams[streamID]?.body.append(contentsOf: data)
    }

    func frameReceived(_ frame: UnsafePointer<nghttp2_frame>) {
        let header = frame.pointee.hd
        let type = UInt32(header.type)
        guard type == NGHTTP2_HEADERS.rawValue || type == NGHTTP2_DATA.rawValue,
            var stream = streams[header.stream_id], !stream.isRejected
        else { return }

        if type == NGHTTP2_HEADERS.rawValue, frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST,
            declaredLengthExceedsLimit(stream)
        {
            rejectTooLarge(streamID: header.stream_id)
            return
        }
        guard header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0 else { return }
        stream.isDelivered = true
        let request = HTTP2Request(
            streamID: header.stream_id,
            method: stream.method,
            path: stream.path,
            authority: stream.authority,
            scheme: stream.scheme,
            headers: stream.headers,
            body: stream.body
        )
        stream.headers = []
        stream.body = []
        streams[header.stream_id] = stream
        pendingEvents.append(.request(request))
    }

    private func declaredLengthExceedsLimit(_ stream: HTTP2Stream) -> Bool {
        guard let field = stream.headers.first(where: { $0.name == "content-length" }) else { return false }
        // nghttp2 already rejected a content-length that is not a decimal number.
        guard let length = Int(field.value) else { return true }
        return length > settings.maxRequestBodyBytes
    }

    /// Responds 413 without a body and never delivers the request; `frameSent` then stops the upload.
    private func rejectTooLarge(streamID: Int32) {
        streams[streamID]?.isRejected = true
        streams[streamID]?.headers = []
        streams[streamID]?.body = []
        submitHeaders(streamID: streamID, status: 413, headers: [("content-length", "0")], hasBody: false)
        pendingEvents.append(.refused(streamID, "request body larger than \(settings.maxRequestBodyBytes) bytes"))
    }

    func frameSent(_ frame: UnsafePointer<nghttp2_frame>) {
        let header = frame.pointee.hd
        if header.type == UInt8(NGHTTP2_HEADERS.rawValue) {
            stopUploadIfRejected(streamID: header.stream_id)
        }
        if header.type == UInt8(NGHTTP2_RST_STREAM.rawValue), frame.pointee.rst_stream.error_code != 0 {
            let name = String(cString: nghttp2_http2_strerror(frame.pointee.rst_stream.error_code))
            pendingEvents.append(.refused(header.stream_id, "stream reset with \(name)"))
        }
        guard header.type == UInt8(NGHTTP2_GOAWAY.rawValue), !isGoingAway else { return }
        // nghttp2 sends GOAWAY on its own only after a connection error caused by the peer.
        let code = frame.pointee.goaway.error_code
        let name = String(cString: nghttp2_http2_strerror(code))
        fail(HTTP2Error("the peer violated HTTP/2, so the server sent GOAWAY \(name); close the connection"))
    }

    /// Sends RST_STREAM NO_ERROR after the 413 response when the client is still uploading, which requests that
    /// it stop sending the body (RFC 9113 section 8.1). Submitting it earlier would overtake the response.
    private func stopUploadIfRejected(streamID: Int32) {
        guard streams[streamID]?.isRejected == true,
            nghttp2_session_get_stream_remote_close(session, streamID) == 0
        else { return }
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, NGHTTP2_NO_ERROR.rawValue)
    }

    func streamClosed(_ streamID: Int32) {
        guard let stream = streams.removeValue(forKey: streamID) else { return }
        if stream.isDelivered {
            pendingEvents.append(.closed(streamID))
        }
    }
}
