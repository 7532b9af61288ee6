import Foundation

/// The status and headers of an HTTP/1.1 response, as ``HTTPFetcher`` needs them.
struct HTTPResponseHead {
    var status: Int
    var contentLength: Int?
    var isChunked = false
    /// Every header by lower-cased name; a repeated header keeps its last value.
    var headers: [String: String] = [:]

    /// Parses the head (status line and header lines, without the blank line).
    init(bytes: [UInt8], url: String) throws(ServerError) {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines.first?.split(separator: " ", maxSplits: 2) ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw ServerError(
                "fetching \(url) failed: invalid HTTP status line \"\(lines.first?.prefix(80) ?? "")\""
            )
        }
        self.status = status
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = value
            if name == "content-length" {
                guard let length = Int(value), length >= 0 else {
                    throw ServerError("fetching \(url) failed: invalid Content-Length \"\(value.prefix(40))\"")
                }
                contentLength = length
            } else if name == "transfer-encoding", value.lowercased().contains("chunked") {
                isChunked = true
                contentLength = nil
            }
        }
    }

    /// Returns the index of the `\r\n\r\n` that ends the head, or nil when it has not arrived.
    static func endOfHead(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }

    /// Decodes a complete chunked body; nil when the final zero-size chunk has not arrived.
    ///
    /// - Throws: ``ServerError`` on a malformed chunk size or a body over `limit` bytes.
    static func decodeChunked(_ bytes: [UInt8], limit: Int) throws(ServerError) -> [UInt8]? {
        var output: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = findCRLF(in: bytes, from: index) else { return nil }
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
                throw ServerError("invalid chunk size \"\(sizeText.prefix(20))\" in a chunked response")
            }
            if size == 0 { return output }
            guard output.count + size <= limit else { throw ServerError("chunked body is larger than \(limit) bytes") }
            let dataStart = lineEnd + 2
            guard bytes.count >= dataStart + size + 2 else { return nil }
            output += bytes[dataStart..<dataStart + size]
            index = dataStart + size + 2
        }
    }

    private static func findCRLF(in bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == 13 && bytes[index + 1] == 10 { return index }
            index += 1
        }
        return nil
    }
}
