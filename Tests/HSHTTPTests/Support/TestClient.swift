import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking socket client for tests, with a receive timeout so that a broken server fails the test
/// instead of hanging it.
final class TestClient {
    enum ClientError: Error, CustomStringConvertible {
        case system(String, Int32)
        case timedOut(received: Int)

        var description: String {
            switch self {
            case .system(let call, let code): "\(call) failed: \(String(cString: strerror(code)))"
            case .timedOut(let received): "timed out after receiving \(received) bytes"
            }
        }
    }

    let fd: Int32
    /// Bytes received but not yet returned by `readResponse`.
    private var buffer: [UInt8] = []

    /// Connects to `127.0.0.1:port`.
    init(port: UInt16, timeout: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw ClientError.system("connect", errno) }
        setTimeout(seconds: timeout)
    }

    /// Connects to the unix socket at `path`.
    init(unixPath path: String, timeout: Int = 10) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else { throw ClientError.system("connect", errno) }
        setTimeout(seconds: timeout)
    }

    deinit {
        Glibc.close(fd)
    }

    func setTimeout(seconds: Int) {
        var value = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { throw ClientError.system("send", errno) }
            offset += sent
        }
    }

    /// Receives once; returns an empty array at end of file.
    func receiveOnce() throws -> [UInt8] {
        if !buffer.isEmpty {
            defer { buffer = [] }
            return buffer
        }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK { throw ClientError.timedOut(received: 0) }
            throw ClientError.system("recv", errno)
        }
        return Array(chunk[..<count])
    }

    /// Receives until the peer closes; fails when the timeout passes first.
    func receiveUntilClose() throws -> [UInt8] {
        var all: [UInt8] = []
        while true {
            let chunk = try receiveOnce()
            if chunk.isEmpty { return all }
            all += chunk
        }
    }

    /// Receives exactly `count` bytes.
    func receive(count: Int) throws -> [UInt8] {
        while buffer.count < count {
            let chunk = try receiveMore()
            if chunk == 0 { throw ClientError.timedOut(received: buffer.count) }
        }
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }

    /// Reads one HTTP/1.1 response with a `Content-Length` body (or none) and returns its parts.
    func readResponse(expectBody: Bool = true) throws -> (status: Int, headers: [String: String], body: [UInt8]) {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            headEnd = buffer.firstRange(of: separator)?.upperBound
            if headEnd == nil, try receiveMore() == 0 { throw ClientError.timedOut(received: buffer.count) }
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd!)
        var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let statusLine = lines.removeFirst().split(separator: " ")
        let status = Int(statusLine[1]) ?? 0
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[line[..<colon].lowercased()] = value
        }
        let length = expectBody ? Int(headers["content-length"] ?? "0") ?? 0 : 0
        let body = try receive(count: length)
        return (status, headers, body)
    }

    /// Appends one receive to the buffer; returns the count, 0 at end of file.
    private func receiveMore() throws -> Int {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK { throw ClientError.timedOut(received: buffer.count) }
            throw ClientError.system("recv", errno)
        }
        buffer += chunk[..<count]
        return count
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` seconds pass; returns whether it held.
func waitUntil(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}
