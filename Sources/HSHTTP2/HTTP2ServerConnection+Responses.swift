internal import CNGHTTP2

/// Responses: the application buffers body bytes per stream, and nghttp2 pulls them through a data provider
/// as the peer's flow-control windows allow.
extension HTTP2ServerConnection {
    /// Sends a complete response (HEADERS, then DATA with END_STREAM) on a stream that delivered a request.
    ///
    /// Adds `content-length` when `headers` has none. Does nothing when the stream is already closed (for example
    /// reset by the peer) or already has a response.
    public func sendResponse(streamID: Int32, status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        guard streams[streamID]?.hasResponse == false else { return }
        var fields = headers
        if !headers.contains(where: { $0.name.lowercased() == "content-length" }) {
            fields.append((name: "content-length", value: String(body.count)))
        }
        streams[streamID]?.outbound.append(body)
        streams[streamID]?.outboundEnded = true
        submitHeaders(streamID: streamID, status: status, headers: fields, hasBody: !body.isEmpty)
    }

    /// Sends the response HEADERS now and keeps the stream open for body bytes from
    /// ``sendData(streamID:_:endStream:)``.
    ///
    /// Does nothing when the stream is already closed or already has a response.
    public func startStreamingResponse(streamID: Int32, status: Int, headers: [(name: String, value: String)]) {
        guard streams[streamID]?.hasResponse == false else { return }
        submitHeaders(streamID: streamID, status: status, headers: headers, hasBody: true)
    }

    /// Appends bytes to a streaming response; `endStream` ends it after these bytes.
    ///
    /// The bytes stay buffered until the peer's windows admit them (see ``bufferedBytes(streamID:)``).
    /// Does nothing when the stream is closed, has no streaming response, or was already ended.
    public func sendData(streamID: Int32, _ bytes: [UInt8], endStream: Bool) {
        guard let stream = streams[streamID], stream.hasResponse, !stream.outboundEnded else { return }
        streams[streamID]?.outbound.append(bytes)
        streams[streamID]?.outboundEnded = endStream
        guard stream.isDeferred, !bytes.isEmpty || endStream else { return }
        streams[streamID]?.isDeferred = false
        let result = nghttp2_session_resume_data(session, streamID)
        if result != 0, nghttp2_is_fatal(result) != 0 {
            fail(HTTP2Error("resuming response data on stream \(streamID) failed", libraryCode: result))
        }
    }

    /// Returns the response body bytes of a stream that are buffered but not yet serialized; 0 for a closed stream.
    ///
    /// Use it for back-pressure: stop producing a stream's body while this stays high.
    public func bufferedBytes(streamID: Int32) -> Int {
        streams[streamID]?.outbound.count ?? 0
    }

    /// Sends RST_STREAM with `errorCode` and drops the stream's buffered body; the stream closes once it is sent.
    public func resetStream(streamID: Int32, errorCode: UInt32) {
        guard streams[streamID] != nil else { return }
        streams[streamID]?.outbound.removeAll()
        streams[streamID]?.outboundEnded = true
        let result = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, errorCode)
        if result != 0, nghttp2_is_fatal(result) != 0 {
            fail(HTTP2Error("submitting RST_STREAM on stream \(streamID) failed", libraryCode: result))
        }
    }

    /// Submits response HEADERS (with the data provider when `hasBody`, else with END_STREAM).
    ///
    /// Header names are lowercased and connection-specific fields dropped, because HTTP/2 forbids both
    /// (RFC 9113 section 8.2) and Go's client treats them as a malformed response.
    func submitHeaders(streamID: Int32, status: Int, headers: [(name: String, value: String)], hasBody: Bool) {
        streams[streamID]?.hasResponse = true
        let statusText = (100...999).contains(status) ? String(status) : "500"
        var fields = [(name: ":status", value: statusText)]
        for field in headers {
            let name = field.name.lowercased()
            if !Self.connectionSpecificFields.contains(name), !name.hasPrefix(":") {
                fields.append((name: name, value: field.value))
            }
        }
        var provider = nghttp2_data_provider()
        provider.read_callback = { _, streamID, buffer, length, flags, _, userData in
            guard let buffer, let flags else { return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) }
            let destination = UnsafeMutableRawBufferPointer(start: buffer, count: length)
            return connection(userData).readBody(streamID: streamID, into: destination, flags: flags)
        }
        let result = withNameValuePairs(fields) { pairs in
            if hasBody {
                return nghttp2_submit_response(session, streamID, pairs.baseAddress, pairs.count, &provider)
            }
            return nghttp2_submit_response(session, streamID, pairs.baseAddress, pairs.count, nil)
        }
        if result != 0, nghttp2_is_fatal(result) != 0 {
            fail(HTTP2Error("submitting the response on stream \(streamID) failed", libraryCode: result))
        }
    }

    private static let connectionSpecificFields: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
    ]

    /// Copies buffered body bytes for nghttp2's data provider, defers when none are buffered, and sets EOF
    /// once the application ended the body.
    func readBody(
        streamID: Int32,
        into destination: UnsafeMutableRawBufferPointer,
        flags: UnsafeMutablePointer<UInt32>
    ) -> Int {
        guard streams[streamID] != nil else {
            return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
        }
        let count = streams[streamID]!.outbound.read(into: destination)
        let stream = streams[streamID]!
        if stream.outbound.isEmpty, stream.outboundEnded {
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            return count
        }
        if count == 0 {
            streams[streamID]?.isDeferred = true
            return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        }
        return count
    }
}

/// Calls `body` with `nghttp2_nv` pairs that point into one temporary buffer; nghttp2 copies them on submit.
private func withNameValuePairs<Result>(
    _ fields: [(name: String, value: String)],
    _ body: (UnsafeBufferPointer<nghttp2_nv>) -> Result
) -> Result {
    var storage: [UInt8] = []
    var ranges: [(name: Range<Int>, value: Range<Int>)] = []
    for field in fields {
        let nameStart = storage.count
        storage.append(contentsOf: field.name.utf8)
        let valueStart = storage.count
        storage.append(contentsOf: field.value.utf8)
        ranges.append((nameStart..<valueStart, valueStart..<storage.count))
    }
    return storage.withUnsafeMutableBufferPointer { bytes in
        // Never empty: every response has at least the ":status" field.
        let base = bytes.baseAddress!
        let pairs = ranges.map { range in
            nghttp2_nv(
                name: base + range.name.lowerBound,
                value: base + range.value.lowerBound,
                namelen: range.name.count,
                valuelen: range.value.count,
                flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)
            )
        }
        return pairs.withUnsafeBufferPointer(body)
    }
}
