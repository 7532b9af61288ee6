/// One call of the admin API (`/api/v1/...`), as the CLI sends it.
struct APIRequest: Sendable, Equatable {
    var method: String
    /// The path with every segment already percent-encoded, such as `/api/v1/user/1/rename/bob`.
    var path: String
    /// Query parameters in order, not yet encoded.
    var query: [(name: String, value: String)] = []
    /// The JSON body; nil sends none.
    var body: JSONValue?
    /// A lower-case phrase naming the operation for error messages, such as `creating user`.
    var action: String

    static func == (lhs: APIRequest, rhs: APIRequest) -> Bool {
        lhs.method == rhs.method && lhs.target == rhs.target && lhs.body == rhs.body && lhs.action == rhs.action
    }

    /// The request target: the path and the encoded query.
    var target: String {
        guard !query.isEmpty else { return path }
        return path + "?"
            + query.map { "\(Self.percentEncoded($0.name))=\(Self.percentEncoded($0.value))" }
            .joined(separator: "&")
    }

    /// The whole HTTP/1.1 request for the unix socket: head and body, without credentials.
    var serialized: [UInt8] { serialized(host: "localhost", bearerToken: nil) }

    /// Encodes the whole HTTP/1.1 request, head and body, with `host` as the `Host` header and,
    /// when `bearerToken` is set, `Authorization: Bearer <token>`. The head carries
    /// `Connection: close`, so the server closes the connection after the response.
    func serialized(host: String, bearerToken: String?) -> [UInt8] {
        let bodyBytes = body.map { Array($0.compactText.utf8) } ?? []
        var head = "\(method) \(target) HTTP/1.1\r\n"
        head += "Host: \(host)\r\n"
        if let bearerToken { head += "Authorization: Bearer \(bearerToken)\r\n" }
        head += "User-Agent: headscale-cli\r\n"
        head += "Accept: application/json\r\n"
        head += "Connection: close\r\n"
        if body != nil { head += "Content-Type: application/json\r\n" }
        if body != nil || method != "GET" { head += "Content-Length: \(bodyBytes.count)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + bodyBytes
    }

    /// Builds a path under `/api/v1/`, with each segment percent-encoded: `apiPath("user", id, "rename", name)`.
    /// `*`, `:` and `@` stay literal, as RFC 3986 allows in segments, because masked key prefixes
    /// (`hskey-api-…-***`) and tags (`tag:a`) contain them.
    static func apiPath(_ segments: String...) -> String {
        "/api/v1/" + segments.map { percentEncoded($0, keeping: "*:@") }.joined(separator: "/")
    }

    /// `text` with every byte outside RFC 3986's unreserved set and `keeping` percent-encoded.
    static func percentEncoded(_ text: String, keeping: String = "") -> String {
        let literalBytes = Set(keeping.utf8)
        var output = ""
        for byte in text.utf8 {
            let isUnreserved =
                (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "~") || literalBytes.contains(byte)
            if isUnreserved {
                output.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                output += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return output
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: Swift.max(0, width - count)) + self
    }
}
