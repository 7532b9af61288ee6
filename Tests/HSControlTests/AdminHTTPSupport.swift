import Foundation
import HSCore

/// One HTTP/1.1 response as read off a socket: status, lower-cased header names, and body.
struct RawHTTPResponse {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as JSON with Foundation.
    func json() throws -> Any {
        try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
    }
}

/// Where an admin request goes: the main TCP listener on 127.0.0.1 or the unix socket.
enum AdminEndpointAddress {
    case tcp(UInt16)
    case unix(String)
}

/// Sends one request with `Connection: close` and reads the whole response (60 s receive limit,
/// because a debug build checks each API key with bcrypt slowly on a loaded machine).
///
/// `headers` go out as given, so a test can send malformed `Authorization` values.
func adminHTTP(
    _ address: AdminEndpointAddress,
    _ method: String,
    _ target: String,
    headers: [(String, String)] = [],
    body: String? = nil
) throws -> RawHTTPResponse {
    var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    let bodyBytes = Array((body ?? "").utf8)
    if body != nil { head += "Content-Type: application/json\r\n" }
    head += "Content-Length: \(bodyBytes.count)\r\n\r\n"
    let reply = try exchange(address, request: Array(head.utf8) + bodyBytes)
    return try parseHTTPResponse(reply)
}

private func exchange(_ address: AdminEndpointAddress, request: [UInt8]) throws -> [UInt8] {
    switch address {
    case .tcp(let port):
        return try exchangeLoopbackTCP(port: port, request: request)
    case .unix(let path):
        return try exchangeUnix(path: path, request: request)
    }
}

/// Connects to 127.0.0.1:`port`, writes `request`, and reads until the server closes.
private func exchangeLoopbackTCP(port: UInt16, request: [UInt8]) throws -> [UInt8] {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw FixtureError("socket(AF_INET) failed: errno \(errno)") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = port.bigEndian
    let connected = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
    guard connected else { throw FixtureError("cannot connect to 127.0.0.1:\(port): errno \(errno)") }
    return try sendAndReadAll(descriptor, request: request, peer: "127.0.0.1:\(port)")
}

/// Connects to the unix socket at `path`, writes `request`, and reads until the server closes.
func exchangeUnix(path: String, request: [UInt8]) throws -> [UInt8] {
    let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw FixtureError("socket(AF_UNIX) failed: errno \(errno)") }
    defer { close(descriptor) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let pathBytes = Array(path.utf8)
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    guard pathBytes.count < capacity else { throw FixtureError("unix socket path too long: \(path)") }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: pathBytes)
        raw[pathBytes.count] = 0
    }
    let connected = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
        }
    }
    guard connected else { throw FixtureError("cannot connect to \(path): errno \(errno)") }
    return try sendAndReadAll(descriptor, request: request, peer: path)
}

/// Writes `request` to the connected socket and reads until the peer closes it.
private func sendAndReadAll(_ descriptor: Int32, request: [UInt8], peer: String) throws -> [UInt8] {
    var timeout = timeval(tv_sec: 60, tv_usec: 0)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var offset = 0
    while offset < request.count {
        let sent = request[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
        guard sent > 0 else { throw FixtureError("write to \(peer) failed: errno \(errno)") }
        offset += sent
    }
    var reply: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 16384)
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
            throw FixtureError("no complete response from \(peer) within 60 s (\(reply.count) bytes read)")
        }
        guard count > 0 else { break }
        reply.append(contentsOf: buffer[..<count])
    }
    return reply
}

/// Splits a complete HTTP/1.1 response into status, headers and body, decoding a chunked body.
func parseHTTPResponse(_ bytes: [UInt8]) throws -> RawHTTPResponse {
    let separator = Array("\r\n\r\n".utf8)
    guard let split = (0..<max(0, bytes.count - 3)).first(where: { Array(bytes[$0..<$0 + 4]) == separator }) else {
        throw FixtureError("no HTTP head in the reply: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
    }
    let lines = String(decoding: bytes[..<split], as: UTF8.self).components(separatedBy: "\r\n")
    let statusWords = lines[0].split(separator: " ")
    guard statusWords.count >= 2, let status = Int(statusWords[1]) else {
        throw FixtureError("invalid HTTP status line \"\(lines[0])\"")
    }
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        let name = line[..<colon].lowercased()
        headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    var body = Array(bytes[(split + 4)...])
    if headers["transfer-encoding"]?.lowercased() == "chunked" {
        body = try decodeChunked(body)
    }
    return RawHTTPResponse(status: status, headers: headers, body: body)
}

private func decodeChunked(_ bytes: [UInt8]) throws -> [UInt8] {
    var output: [UInt8] = []
    var index = 0
    while index < bytes.count {
        guard let lineEnd = (index..<bytes.count - 1).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }) else {
            throw FixtureError("chunk size line without CRLF")
        }
        let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";")[0]
        guard let size = Int(sizeText, radix: 16) else { throw FixtureError("invalid chunk size \"\(sizeText)\"") }
        if size == 0 { return output }
        let start = lineEnd + 2
        guard start + size <= bytes.count else { throw FixtureError("chunk of \(size) bytes is cut short") }
        output += bytes[start..<start + size]
        index = start + size + 2
    }
    throw FixtureError("chunked body without the closing zero-size chunk")
}

