import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A request as the fake server received it.
struct RecordedRequest: Sendable {
    var method: String
    var target: String
    var headers: [String: String]
    var body: String
}

/// A response the fake server sends, with `Content-Length` or chunked framing.
struct CannedResponse: Sendable {
    var status: Int
    var body: String
    var isChunked = false

    var bytes: [UInt8] {
        var head = "HTTP/1.1 \(status) Status\r\nContent-Type: application/json\r\n"
        guard isChunked else {
            head += "Content-Length: \(body.utf8.count)\r\n\r\n"
            return Array((head + body).utf8)
        }
        head += "Transfer-Encoding: chunked\r\n\r\n"
        var chunks = ""
        var rest = Substring(body)
        while !rest.isEmpty {
            let piece = rest.prefix(7)
            rest = rest.dropFirst(piece.count)
            chunks += String(piece.utf8.count, radix: 16) + "\r\n" + piece + "\r\n"
        }
        return Array((head + chunks + "0\r\n\r\n").utf8)
    }
}

/// A small HTTP/1.1 server on a real unix socket in the temporary directory. It sends the
/// queued responses in order, one request per connection, and records every request.
final class FakeAPIServer: Sendable {
    let path: String
    private let listener: Int32
    private let state: Mutex<(responses: [CannedResponse], requests: [RecordedRequest])>
    private let finished = DispatchSemaphore(value: 0)

    /// Makes a fresh socket path in the temporary directory, short enough for `sun_path`.
    static func makePath() -> String { "/tmp/hscli-\(UInt32.random(in: 0...UInt32.max)).sock" }

    init(responses: [CannedResponse], path: String = FakeAPIServer.makePath()) throws {
        self.path = path
        state = Mutex((responses, []))
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path.utf8) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard listener >= 0, bound == 0, listen(listener, 8) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// The requests received so far.
    var requests: [RecordedRequest] { state.withLock { $0.requests } }

    /// Stops accepting, waits for the accept loop to end and removes the socket file.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        finished.wait()
        close(listener)
        unlink(path)
    }

    private func acceptLoop() {
        defer { finished.signal() }
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            serve(connection)
            close(connection)
        }
    }

    private func serve(_ connection: Int32) {
        guard let request = readRequest(connection) else { return }
        let response = state.withLock { state -> CannedResponse in
            state.requests.append(request)
            return state.responses.isEmpty ? CannedResponse(status: 500, body: "{}") : state.responses.removeFirst()
        }
        let bytes = response.bytes
        _ = bytes.withUnsafeBytes { send(connection, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    private func readRequest(_ connection: Int32) -> RecordedRequest? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let headEnd = data.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: data[..<headEnd.lowerBound], as: UTF8.self)
                var lines = head.components(separatedBy: "\r\n")
                let requestLine = lines.removeFirst().split(separator: " ")
                var headers: [String: String] = [:]
                for line in lines {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
                        .trimmingCharacters(in: .whitespaces)
                }
                let length = Int(headers["content-length"] ?? "0") ?? 0
                if data.count - headEnd.upperBound >= length {
                    let body = String(decoding: data[headEnd.upperBound..<headEnd.upperBound + length], as: UTF8.self)
                    return RecordedRequest(
                        method: String(requestLine[0]),
                        target: String(requestLine[1]),
                        headers: headers,
                        body: body
                    )
                }
            }
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress!, $0.count, 0) }
            guard count > 0 else { return nil }
            data += buffer.prefix(count)
        }
    }
}
