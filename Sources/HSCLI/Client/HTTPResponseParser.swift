/// An HTTP/1.1 response as the CLI needs it.
struct HTTPClientResponse: Sendable, Equatable {
    var status: Int
    var reason: String
    /// Header fields in arrival order, names lower-cased.
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }

    static func == (lhs: HTTPClientResponse, rhs: HTTPClientResponse) -> Bool {
        lhs.status == rhs.status && lhs.reason == rhs.reason && lhs.body == rhs.body
            && lhs.headers.map(\.name) == rhs.headers.map(\.name)
            && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }
}

/// A sans-IO parser for one HTTP/1.1 response: feed it the bytes read from the connection and it
/// returns the response once complete.
///
/// The body is delimited by `Transfer-Encoding: chunked`, by `Content-Length`, or by the end of the
/// stream (the request sends `Connection: close`). Interim `1xx` responses are skipped. The head
/// may be at most `maximumHeadSize` bytes and the decoded body at most `maximumBodySize`.
struct HTTPResponseParser {
    /// The reason for rejecting a response.
    struct ParseError: Error, Equatable {
        var reason: String
    }

    static let maximumHeadSize = 64 * 1024
    static let maximumChunkLineSize = 1024
    let maximumBodySize: Int

    private enum BodyFraming { case length(Int), chunked, untilClose }

    private var buffer: [UInt8] = []
    private var head: (status: Int, reason: String, headers: [(name: String, value: String)])?
    private var framing = BodyFraming.untilClose
    private var body: [UInt8] = []
    /// Start of the next undecoded chunk header in `buffer` while reading a chunked body.
    private var cursor = 0

    init(maximumBodySize: Int) { self.maximumBodySize = maximumBodySize }

    /// Adds bytes from the connection; returns the response when it is complete, nil when more is needed.
    mutating func feed(_ bytes: [UInt8]) throws(ParseError) -> HTTPClientResponse? {
        buffer += bytes
        while head == nil {
            guard try parseHead() else { return nil }
        }
        return try parseBody()
    }

    /// Called when the peer closed the connection; returns the response if the end of the stream
    /// completes it.
    mutating func finish() throws(ParseError) -> HTTPClientResponse {
        guard let head else { throw ParseError(reason: "the connection closed before a complete response header") }
        guard case .untilClose = framing else {
            throw ParseError(reason: "the connection closed before the response body was complete")
        }
        return HTTPClientResponse(status: head.status, reason: head.reason, headers: head.headers, body: buffer)
    }

    /// Reads the status line and headers when all of them have arrived; returns false when more
    /// bytes are needed. Interim 1xx heads are dropped and leave `head` nil.
    private mutating func parseHead() throws(ParseError) -> Bool {
        guard let end = buffer.firstRange(of: [13, 10, 13, 10]) else {
            if buffer.count > Self.maximumHeadSize { throw ParseError(reason: "the response header exceeds 64 KiB") }
            return false
        }
        let lines = String(decoding: buffer[..<end.lowerBound], as: UTF8.self).split(separator: "\r\n")
        buffer.removeSubrange(..<end.upperBound)
        guard let statusLine = lines.first else { throw ParseError(reason: "the response has no status line") }
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (100...599).contains(status)
        else { throw ParseError(reason: "invalid status line '\(statusLine.prefix(80))'") }
        if (100...199).contains(status) { return true }

        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else {
                throw ParseError(reason: "invalid header line '\(line.prefix(80))'")
            }
            headers.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingWhitespace()))
        }
        head = (status, parts.count > 2 ? String(parts[2]) : "", headers)
        try chooseFraming(status: status, headers: headers)
        return true
    }

    private mutating func chooseFraming(status: Int, headers: [(name: String, value: String)]) throws(ParseError) {
        let transferEncoding = headers.first { $0.name == "transfer-encoding" }?.value.lowercased()
        if status == 204 || status == 304 {
            framing = .length(0)
        } else if let transferEncoding, transferEncoding.hasSuffix("chunked") {
            framing = .chunked
        } else if let lengthText = headers.first(where: { $0.name == "content-length" })?.value {
            guard let length = Int(lengthText), length >= 0 else {
                throw ParseError(reason: "invalid Content-Length '\(lengthText.prefix(40))'")
            }
            guard length <= maximumBodySize else { throw tooLarge() }
            framing = .length(length)
        } else {
            framing = .untilClose
        }
    }

    private mutating func parseBody() throws(ParseError) -> HTTPClientResponse? {
        guard let head else { return nil }
        switch framing {
        case .length(let length):
            guard buffer.count >= length else { return nil }
            body = Array(buffer.prefix(length))
        case .untilClose:
            guard buffer.count <= maximumBodySize else { throw tooLarge() }
            return nil
        case .chunked:
            guard try decodeChunks() else { return nil }
        }
        return HTTPClientResponse(status: head.status, reason: head.reason, headers: head.headers, body: body)
    }

    /// Decodes the complete chunks in `buffer` into `body`; returns true after the last chunk and
    /// its trailer section.
    private mutating func decodeChunks() throws(ParseError) -> Bool {
        while true {
            guard let lineEnd = buffer[cursor...].firstRange(of: [13, 10]) else {
                if buffer.count - cursor > Self.maximumChunkLineSize {
                    throw ParseError(reason: "chunk header too long")
                }
                return false
            }
            let line = String(decoding: buffer[cursor..<lineEnd.lowerBound], as: UTF8.self)
            let sizeText = line.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
            guard let size = Int(sizeText.trimmingWhitespace(), radix: 16), size >= 0 else {
                throw ParseError(reason: "invalid chunk size '\(line.prefix(40))'")
            }
            if size == 0 {
                return try hasCompleteTrailers(after: lineEnd.upperBound)
            }
            guard body.count + size <= maximumBodySize else { throw tooLarge() }
            guard buffer.count >= lineEnd.upperBound + size + 2 else { return false }
            let dataEnd = lineEnd.upperBound + size
            guard buffer[dataEnd] == 13, buffer[dataEnd + 1] == 10 else {
                throw ParseError(reason: "chunk data is not followed by CRLF")
            }
            body += buffer[lineEnd.upperBound..<dataEnd]
            cursor = dataEnd + 2
        }
    }

    /// Checks whether the trailer section after the last chunk, ending with an empty line, has arrived.
    private func hasCompleteTrailers(after start: Int) throws(ParseError) -> Bool {
        if buffer.count >= start + 2, buffer[start] == 13, buffer[start + 1] == 10 { return true }
        if buffer[start...].firstRange(of: [13, 10, 13, 10]) != nil { return true }
        if buffer.count - start > Self.maximumHeadSize { throw ParseError(reason: "chunked trailers exceed 64 KiB") }
        return false
    }

    private func tooLarge() -> ParseError {
        ParseError(reason: "the response body exceeds the limit of \(maximumBodySize) bytes")
    }
}
