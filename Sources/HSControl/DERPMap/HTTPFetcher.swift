import Foundation
import HSTLS

/// A minimal blocking HTTP/1.1 client for `http://` and `https://` URLs, used to fetch DERP maps and to talk to ACME servers.
///
/// It sends `Connection: close`, follows no redirects, accepts `Content-Length`, chunked and
/// read-until-close bodies, and rejects a head over ``maxHeadBytes`` or a body over `maxBodyBytes`.
/// HTTPS verifies the server against the system roots (or `SSL_CERT_FILE`), or against
/// `trustedCertificatesPath` when set, including the host name. Every socket operation times out
/// after `timeoutSeconds`. Call it from a background queue: it blocks.
struct HTTPFetcher: Sendable {
    static let maxHeadBytes = 16 << 10
    var maxBodyBytes = 1 << 20
    var timeoutSeconds = 10
    var trustedCertificatesPath: String?

    /// Fetches `url` and returns the body of a 200 response.
    ///
    /// - Throws: ``ServerError`` naming the URL when the URL is invalid, the connection or TLS
    ///   fails, the status is not 200, or a limit is exceeded.
    func get(_ url: String) throws(ServerError) -> [UInt8] {
        let response = try request("GET", url: url, headers: [("Accept", "application/json")])
        guard response.status == 200 else {
            throw ServerError(
                "fetching DERP map \(url) failed: the server responded with status \(response.status); expected 200"
            )
        }
        return response.body
    }

    /// Sends one request and returns the response whatever its status.
    ///
    /// - Throws: ``ServerError`` naming the URL when the URL is invalid, the connection or TLS
    ///   fails, or a limit is exceeded.
    func request(
        _ method: String,
        url: String,
        headers: [(String, String)] = [],
        body: [UInt8] = []
    ) throws(ServerError) -> FetchedResponse {
        let target = try FetchTarget(url: url)
        let fd = try connect(host: target.host, port: target.port, url: url)
        defer { Glibc.close(fd) }

        let connection: any FetchTransport
        if target.isSecure {
            do {
                connection = try TLSClientConnection(
                    fileDescriptor: fd,
                    host: target.host,
                    trustedCertificatesPath: trustedCertificatesPath
                )
            } catch {
                throw ServerError("fetching \(url) failed: \(error)")
            }
        } else {
            connection = PlainTransport(fd: fd)
        }
        defer { connection.finish() }

        do {
            try connection.send(target.requestHead(method: method, headers: headers, bodyLength: body.count) + body)
            return try readResponse(from: connection, url: url)
        } catch let error as ServerError {
            throw error
        } catch {
            throw ServerError("fetching \(url) failed: \(error)")
        }
    }

    func connect(host: String, port: Int, url: String) throws(ServerError) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &results)
        guard status == 0, let first = results else {
            throw ServerError(
                "fetching \(url) failed: cannot resolve \(host): \(String(cString: gai_strerror(status)))"
            )
        }
        defer { freeaddrinfo(results) }
        var lastError: Int32 = 0
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
            lastError = errno
            Glibc.close(fd)
        }
        throw ServerError(
            "fetching \(url) failed: connecting to \(host) port \(port): \(String(cString: strerror(lastError)))"
        )
    }

    private func readResponse(from connection: any FetchTransport, url: String) throws -> FetchedResponse {
        var buffer: [UInt8] = []
        var headEnd: Int?
        while headEnd == nil {
            let chunk = try connection.receive()
            guard !chunk.isEmpty else {
                throw ServerError("fetching \(url) failed: connection closed before the response head")
            }
            buffer += chunk
            headEnd = HTTPResponseHead.endOfHead(in: buffer)
            guard headEnd != nil || buffer.count <= Self.maxHeadBytes else {
                throw ServerError(
                    "fetching \(url) failed: response head is larger than \(Self.maxHeadBytes) bytes"
                )
            }
        }
        let head = try HTTPResponseHead(bytes: Array(buffer[..<headEnd!]), url: url)
        if let length = head.contentLength, length > maxBodyBytes {
            throw ServerError(
                "fetching \(url) failed: Content-Length \(length) exceeds the limit of \(maxBodyBytes)"
            )
        }
        let body = try readBody(head, start: Array(buffer[(headEnd! + 4)...]), from: connection, url: url)
        return FetchedResponse(status: head.status, headers: head.headers, body: body)
    }

    /// Reads the body that follows `head`, of which `start` has already arrived.
    private func readBody(
        _ head: HTTPResponseHead,
        start: [UInt8],
        from connection: any FetchTransport,
        url: String
    ) throws -> [UInt8] {
        var body = start
        // Chunk-size lines add a little to the wire size of a chunked body.
        let wireLimit = head.isChunked ? maxBodyBytes + maxBodyBytes / 8 + 1024 : maxBodyBytes
        while head.contentLength.map({ body.count < $0 }) ?? true {
            if head.isChunked, try HTTPResponseHead.decodeChunked(body, limit: maxBodyBytes) != nil { break }
            let chunk = try connection.receive()
            if chunk.isEmpty { break }
            body += chunk
            guard body.count <= wireLimit else {
                throw ServerError("fetching \(url) failed: body is larger than \(maxBodyBytes) bytes")
            }
        }
        if let length = head.contentLength {
            guard body.count >= length else { throw ServerError("fetching \(url) failed: body ended early") }
            return Array(body.prefix(length))
        }
        if head.isChunked {
            guard let decoded = try HTTPResponseHead.decodeChunked(body, limit: maxBodyBytes) else {
                throw ServerError("fetching \(url) failed: chunked body ended early")
            }
            return decoded
        }
        return body
    }
}

/// The parts of a DERP map URL that a fetch needs.
struct FetchTarget {
    var isSecure: Bool
    var host: String
    var port: Int
    /// The path and query to request.
    var path: String
    /// The `Host` header value.
    var hostHeader: String

    init(url: String) throws(ServerError) {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
            scheme == "http" || scheme == "https",
            let host = parsed.host, !host.isEmpty
        else {
            throw ServerError("invalid DERP map URL \"\(url.prefix(200))\": use http://HOST/PATH or https://HOST/PATH")
        }
        isSecure = scheme == "https"
        self.host = host
        port = parsed.port ?? (isSecure ? 443 : 80)
        var target = parsed.path.isEmpty ? "/" : parsed.path
        if let query = parsed.query { target += "?" + query }
        let bracketed = host.contains(":") ? "[\(host)]" : host
        hostHeader = parsed.port == nil ? bracketed : "\(bracketed):\(port)"
        path = target
    }

    /// The GET request head that DERP map fetches send, ending with the blank line.
    var requestHead: [UInt8] { requestHead(method: "GET", headers: [("Accept", "application/json")], bodyLength: 0) }

    /// A request head with `headers` after `Host` and `User-Agent`, ending with the blank line.
    /// A body length above zero adds `Content-Length`.
    func requestHead(method: String, headers: [(String, String)], bodyLength: Int) -> [UInt8] {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: headscale\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if bodyLength > 0 || method == "POST" { text += "Content-Length: \(bodyLength)\r\n" }
        return Array((text + "Connection: close\r\n\r\n").utf8)
    }
}

/// A response read by ``HTTPFetcher/request(_:url:headers:body:)``.
struct FetchedResponse: Sendable {
    var status: Int
    /// Headers by lower-cased name.
    var headers: [String: String]
    var body: [UInt8]
}

/// The byte channel of one fetch: a plain socket or a TLS session on it.
protocol FetchTransport {
    func send(_ bytes: [UInt8]) throws
    /// Returns the next bytes, or none when the server closed the connection.
    func receive() throws -> [UInt8]
    func finish()
}

extension TLSClientConnection: FetchTransport {
    func send(_ bytes: [UInt8]) throws { try write(bytes) }
    func receive() throws -> [UInt8] { try read(maxCount: 16 << 10) }
    func finish() { shutdown() }
}

struct PlainTransport: FetchTransport {
    let fd: Int32

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { throw ServerError("sending the request failed: \(String(cString: strerror(errno)))") }
            offset += sent
        }
    }

    func receive() throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else {
            throw ServerError(
                "reading the response failed: \(errno == EAGAIN ? "timed out" : String(cString: strerror(errno)))"
            )
        }
        return Array(buffer.prefix(count))
    }

    func finish() {}
}
