/// Byte constants and character classes from RFC 9110 section 5.6.2 and RFC 9112.
enum ASCII {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let colon = UInt8(ascii: ":")

    /// A `tchar`: the characters allowed in methods, field names and transfer codings.
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    /// A control character other than horizontal tab, which no field value may contain.
    static func isForbiddenInValue(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != tab) || byte == 0x7F
    }
}

extension HTTPRequestParser {
    /// Returns the request head when its terminating empty line has arrived, consuming it.
    mutating func parseHead() throws(HTTPError) -> HTTPRequest? {
        // RFC 9112 section 2.2: empty lines before a request line are ignored.
        while bufferedByteCount >= 2, buffer[start] == ASCII.cr, buffer[start + 1] == ASCII.lf {
            start += 2
        }
        headScanFrom = max(headScanFrom, start)
        guard let end = findHeadEnd() else {
            if bufferedByteCount > maxHeaderBytes { throw Self.headerTooLarge(maxHeaderBytes) }
            return nil
        }
        if end - start > maxHeaderBytes { throw Self.headerTooLarge(maxHeaderBytes) }
        let head = buffer[start..<(end - 4)]
        start = end
        headScanFrom = end
        return try Self.parseHeadBytes(head)
    }

    /// Finds the index just past the first CRLF CRLF at or after `headScanFrom`.
    mutating func findHeadEnd() -> Int? {
        var index = headScanFrom
        while index + 3 < buffer.count {
            if buffer[index] == ASCII.cr, buffer[index + 1] == ASCII.lf, buffer[index + 2] == ASCII.cr,
                buffer[index + 3] == ASCII.lf
            {
                return index + 4
            }
            index += 1
        }
        headScanFrom = max(start, buffer.count - 3)
        return nil
    }

    static func headerTooLarge(_ limit: Int) -> HTTPError {
        HTTPError(status: 431, "the request line and header fields exceed \(limit) bytes")
    }

    /// Parses a request line and header fields, without the final CRLF CRLF.
    static func parseHeadBytes(_ head: ArraySlice<UInt8>) throws(HTTPError) -> HTTPRequest {
        let lines = try splitLines(head)
        let (method, target, version) = try parseRequestLine(lines[0])
        var headers = HTTPHeaders()
        for line in lines.dropFirst() {
            let (name, value) = try parseField(line)
            headers.add(name, value)
        }
        if version == .http11 {
            let hosts = headers.values("Host")
            guard hosts.count == 1 else {
                throw .badRequest(hosts.isEmpty ? "missing Host header" : "more than one Host header")
            }
        }
        let (path, query) = try decodeTarget(target)
        var request = HTTPRequest(method: method, target: target, path: path, query: query, headers: headers)
        request.version = version
        return request
    }

    /// Splits on CRLF; a bare CR or LF is malformed.
    static func splitLines(_ head: ArraySlice<UInt8>) throws(HTTPError) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = head.startIndex
        var index = head.startIndex
        while index < head.endIndex {
            let byte = head[index]
            if byte == ASCII.cr, index + 1 < head.endIndex, head[index + 1] == ASCII.lf {
                lines.append(head[lineStart..<index])
                index += 2
                lineStart = index
                continue
            }
            if byte == ASCII.cr || byte == ASCII.lf {
                throw .badRequest("bare CR or LF in the request head")
            }
            index += 1
        }
        lines.append(head[lineStart..<head.endIndex])
        return lines
    }

    /// Parses `method SP request-target SP HTTP-version`.
    static func parseRequestLine(
        _ line: ArraySlice<UInt8>
    ) throws(HTTPError) -> (method: String, target: String, version: HTTPVersion) {
        let parts = line.split(separator: ASCII.space, omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw .badRequest("the request line must be METHOD SP TARGET SP VERSION")
        }
        guard !parts[0].isEmpty, parts[0].allSatisfy(ASCII.isTokenCharacter) else {
            throw .badRequest("invalid method")
        }
        guard !parts[1].isEmpty, parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .badRequest("invalid request target")
        }
        let version = String(decoding: parts[2], as: UTF8.self)
        let parsedVersion: HTTPVersion
        switch version {
        case "HTTP/1.1": parsedVersion = .http11
        case "HTTP/1.0": parsedVersion = .http10
        default:
            let shape = Array("HTTP/x.y".utf8)
            let looksLikeVersion =
                parts[2].count == shape.count && version.hasPrefix("HTTP/")
                && zip(parts[2], shape).allSatisfy { byte, pattern in
                    pattern == UInt8(ascii: "x") || pattern == UInt8(ascii: "y")
                        ? (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) : byte == pattern
                }
            guard looksLikeVersion else { throw .badRequest("invalid HTTP version") }
            throw HTTPError(status: 505, "\(version) is not supported; use HTTP/1.1")
        }
        return (String(decoding: parts[0], as: UTF8.self), String(decoding: parts[1], as: UTF8.self), parsedVersion)
    }

    /// Parses `field-name ":" OWS field-value OWS`.
    static func parseField(_ line: ArraySlice<UInt8>) throws(HTTPError) -> (String, String) {
        if let first = line.first, first == ASCII.space || first == ASCII.tab {
            throw .badRequest("obsolete line folding in header fields is not accepted")
        }
        guard let colon = line.firstIndex(of: ASCII.colon) else {
            throw .badRequest("header field without a colon")
        }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty, name.allSatisfy(ASCII.isTokenCharacter) else {
            throw .badRequest("invalid header field name")
        }
        var value = line[(colon + 1)...]
        while let first = value.first, first == ASCII.space || first == ASCII.tab { value.removeFirst() }
        while let last = value.last, last == ASCII.space || last == ASCII.tab { value.removeLast() }
        guard !value.contains(where: ASCII.isForbiddenInValue) else {
            throw .badRequest("control character in the value of header \(String(decoding: name, as: UTF8.self))")
        }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }
}
