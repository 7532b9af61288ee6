import Dispatch
import Foundation
import HSCore
import HSHTTP
import HSPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A server for attack tests: `POST /items` stores the body, `GET /items` returns the stored bodies
/// joined by newlines, and every log line is kept for the offender checks.
final class AttackHTTPServer: Sendable {
    let listener: TCPListener
    let sink = CapturingSink()
    let items = ItemList()

    var port: UInt16 { listener.localPort }

    init(configuration: HTTPServerConfiguration) throws {
        let logger = Logger(label: "attack", minimumLevel: .info, sink: sink)
        let items = self.items
        let server = HTTPServer(
            configuration: configuration,
            handler: ClosureHandler { request, responder in
                if request.method == "POST" {
                    items.values.withLock { $0.append(String(decoding: request.body, as: UTF8.self)) }
                    responder.respond(.text(201, "stored"))
                } else {
                    responder.respond(.text(200, items.values.withLock { $0.joined(separator: "\n") }))
                }
            },
            logger: logger
        )
        listener = try TCPListener(host: "127.0.0.1", port: 0, logger: logger)
        listener.start { stream in server.serve(stream, isSecure: false) }
    }

    func stop() { listener.stop() }

    /// Returns the warnings that name `source` and have `kind=kind`.
    func offenderLines(kind: String, source: String) -> [String] {
        sink.lines.withLock { lines in
            lines.filter {
                $0.contains("level=warning") && $0.contains("kind=\(kind)") && $0.contains("source=\(source) ")
            }
        }
    }

    /// Stores `item` and reads the whole list back over a fresh connection from 127.0.0.1, as an
    /// honest client would.
    func storeAndList(_ item: String) throws -> (stored: Int, listed: [String]) {
        let client = try TestClient(port: port)
        try client.send("POST /items HTTP/1.1\r\nHost: test\r\nContent-Length: \(item.utf8.count)\r\n\r\n\(item)")
        let stored = try client.readResponse().status
        try client.send("GET /items HTTP/1.1\r\nHost: test\r\n\r\n")
        let listed = try client.readResponse().body
        return (stored, String(decoding: listed, as: UTF8.self).split(separator: "\n").map(String.init))
    }
}

/// The bodies stored by `POST /items`, in arrival order.
final class ItemList: Sendable {
    let values = Mutex<[String]>([])
}

extension SourceClient {
    /// Sends raw bytes, ignoring a connection the server has already closed.
    func send(bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { return }
            offset += sent
        }
    }

    /// Reads until the server closes or the receive timeout passes, and returns the status code of
    /// the first response in what arrived, or nil when no response came.
    func readStatusUntilClose() -> Int? {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received += chunk[..<count]
        }
        let statusLine = String(decoding: received.prefix(12), as: UTF8.self).split(separator: " ")
        return statusLine.count > 1 ? Int(statusLine[1]) : nil
    }
}

/// Runs blocking socket work on its own thread, so that the test does not hold a thread of the
/// small cooperative pool while it waits for the server.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.start()
    }
}
