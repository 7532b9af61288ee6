/// The framing of a request body (RFC 9112 section 6.3).
enum BodyFraming: Equatable {
    case none
    case length(Int)
    case chunked
}

extension HTTPRequestParser {
    /// Chooses the framing from `Transfer-Encoding` and `Content-Length`, enforcing `maxBodyBytes`.
    func bodyFraming(_ headers: HTTPHeaders) throws(HTTPError) -> BodyFraming {
        let codings = headers.values("Transfer-Encoding")
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingASCIIWhitespace().lowercased() }
        let lengths = headers.values("Content-Length")
        if !codings.isEmpty {
            // Both framings at once is the classic request-smuggling shape.
            guard lengths.isEmpty else {
                throw .badRequest("a request must not carry both Content-Length and Transfer-Encoding")
            }
            guard codings.last == "chunked" else {
                throw .badRequest("Transfer-Encoding must end with chunked")
            }
            guard codings.count == 1 else {
                throw HTTPError(status: 501, "transfer coding \(codings.joined(separator: ", ")) is not supported")
            }
            return .chunked
        }
        guard !lengths.isEmpty else { return .none }
        let length = try Self.parseContentLength(lengths)
        guard length <= maxBodyBytes else {
            throw HTTPError(status: 413, "the body of \(length) bytes exceeds the limit of \(maxBodyBytes) bytes")
        }
        return length == 0 ? .none : .length(length)
    }

    /// Parses every `Content-Length` value; they must all be the same decimal number.
    static func parseContentLength(_ values: [String]) throws(HTTPError) -> Int {
        var result: Int?
        for item in values.flatMap({ $0.split(separator: ",") }) {
            let text = item.trimmingASCIIWhitespace()
            // 18 digits cannot overflow Int64 and exceed any sane body limit.
            guard !text.isEmpty, text.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let value = Int(text)
            else {
                throw .badRequest("invalid Content-Length \"\(text)\"")
            }
            if let result, result != value {
                throw .badRequest("conflicting Content-Length values")
            }
            result = value
        }
        guard let result else { throw .badRequest("empty Content-Length") }
        return result
    }

    /// Advances through a chunked body as far as the buffered bytes allow.
    ///
    /// - Returns: an event when one is ready, or nil when more bytes are needed or the request is
    ///   not in a chunked body.
    mutating func parseChunked() throws(HTTPError) -> HTTPParserEvent? {
        while true {
            switch state {
            case .chunkSize(let request, let announced):
                let tooLong = HTTPError.badRequest("chunk size line longer than \(Self.maxChunkLineBytes) bytes")
                guard let line = try takeLine(limit: Self.maxChunkLineBytes, tooLong: tooLong) else {
                    guard !announced, request.body.isEmpty, Self.expectsContinue(request) else { return nil }
                    state = .chunkSize(request, announcedContinue: true)
                    return .continueExpected
                }
                let size = try parseChunkSize(line, bodySoFar: request.body.count)
                state = size == 0 ? .trailers(request, bytesSeen: 0) : .chunkData(request, remaining: size)
            case .chunkData(var request, let remaining):
                guard bufferedByteCount > 0 else { return nil }
                // Leave `state` without a reference to the body so the append below does not copy it.
                state = .head
                let count = min(remaining, bufferedByteCount)
                request.body += buffer[start..<start + count]
                start += count
                state = count == remaining ? .chunkDataEnd(request) : .chunkData(request, remaining: remaining - count)
            case .chunkDataEnd(let request):
                guard bufferedByteCount >= 2 else { return nil }
                guard buffer[start] == ASCII.cr, buffer[start + 1] == ASCII.lf else {
                    throw .badRequest("chunk data not followed by CRLF")
                }
                start += 2
                state = .chunkSize(request, announcedContinue: true)
            case .trailers(let request, let bytesSeen):
                let tooLong = Self.headerTooLarge(maxHeaderBytes)
                guard let line = try takeLine(limit: maxHeaderBytes - bytesSeen, tooLong: tooLong) else { return nil }
                // Trailer fields are read and dropped because nothing in this server uses them.
                if line.isEmpty { return finish(request) }
                state = .trailers(request, bytesSeen: bytesSeen + line.count + 2)
            case .head, .fixedBody:
                return nil
            }
        }
    }

    /// Takes one CRLF-terminated line of at most `limit` bytes; nil when none is complete yet.
    ///
    /// - Throws: `tooLong` when `limit` bytes have arrived without a line end.
    mutating func takeLine(limit: Int, tooLong: HTTPError) throws(HTTPError) -> ArraySlice<UInt8>? {
        var index = start
        while index + 1 < buffer.count, index - start <= limit {
            if buffer[index] == ASCII.cr, buffer[index + 1] == ASCII.lf {
                let line = buffer[start..<index]
                start = index + 2
                return line
            }
            index += 1
        }
        if bufferedByteCount > limit + 1 { throw tooLong }
        return nil
    }

    /// Parses `chunk-size [ chunk-ext ]`; extensions are ignored.
    func parseChunkSize(_ line: ArraySlice<UInt8>, bodySoFar: Int) throws(HTTPError) -> Int {
        let digits = line.prefix { byte in
            byte != UInt8(ascii: ";") && byte != ASCII.space && byte != ASCII.tab
        }
        guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy(\.isHexDigit),
            let size = Int(String(decoding: digits, as: UTF8.self), radix: 16)
        else {
            throw .badRequest("invalid chunk size \"\(String(decoding: line.prefix(32), as: UTF8.self))\"")
        }
        guard bodySoFar + size <= maxBodyBytes else {
            throw HTTPError(status: 413, "the chunked body exceeds the limit of \(maxBodyBytes) bytes")
        }
        return size
    }
}

extension StringProtocol {
    /// Drops leading and trailing spaces and tabs, the whitespace HTTP allows around values.
    func trimmingASCIIWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}

extension UInt8 {
    var isHexDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self)
    }
}
