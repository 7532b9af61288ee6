import Dispatch
import Foundation
import HSCore
import HSHTTP
import HSPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A raw loopback connection whose source address the test picks (any of 127.0.0.0/8), so that one
/// process can play several clients.
final class SourceClient {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let fd: Int32

    /// Connects to `127.0.0.1:port` from `source`, with a receive timeout against hangs.
    init(from source: String, port: UInt16, timeout: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = port.bigEndian
        remote.sin_addr.s_addr = inet_addr("127.0.0.1")
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        guard bound == 0, connected == 0 else {
            let code = errno
            Glibc.close(fd)
            throw Failure(description: "connect from \(source): \(String(cString: strerror(code)))")
        }
        var value = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        Glibc.close(fd)
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Sends a GET and returns the response's status code; fails on a close or a timeout.
    func get(_ path: String = "/") throws -> Int {
        send("GET \(path) HTTP/1.1\r\nHost: test\r\n\r\n")
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while received.firstRange(of: Array("\r\n\r\n".utf8)) == nil {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw Failure(description: "connection closed before a response") }
            received += chunk[..<count]
        }
        let statusLine = String(decoding: received.prefix(12), as: UTF8.self).split(separator: " ")
        return statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0
    }

    /// True when the server has closed the connection, waiting at most `milliseconds` to find out.
    func isClosedByServer(within milliseconds: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, milliseconds) > 0 else { return false }
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return count == 0 || (count < 0 && errno != EAGAIN)
    }
}

/// Waits, at most five seconds, until `count` of `clients` are closed by the server, and returns how
/// many are closed then.
func waitForClosed(_ clients: [SourceClient], count: Int) -> Int {
    let deadline = ContinuousClock.now + .seconds(5)
    var closed = 0
    repeat {
        closed = clients.filter { $0.isClosedByServer(within: 0) }.count
        if closed >= count { break }
        Thread.sleep(forTimeInterval: 0.01)
    } while ContinuousClock.now < deadline
    return closed
}

/// A server on an ephemeral loopback port with the given connection limits.
struct LimitedServer {
    let listener: TCPListener

    var port: UInt16 { listener.localPort }

    init(limits: ConnectionLimits, logger: Logger = testLogger) throws {
        let server = HTTPServer(
            handler: ClosureHandler { _, responder in responder.respond(.text(200, "ok")) },
            logger: logger
        )
        listener = try TCPListener(host: "127.0.0.1", port: 0, limits: limits, logger: logger)
        listener.start { stream in server.serve(stream, isSecure: false) }
    }

    func stop() { listener.stop() }

    /// Waits, at most ten seconds, until the listener's counts satisfy `condition`.
    func waitForCounts(_ condition: (_ open: Int, _ pending: Int) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let counts = listener.connectionCounts
            if condition(counts.open, counts.pending) { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return false
    }
}

/// Keeps every log line, so a test can count the warnings.
final class CapturingSink: LogSink {
    let lines = Mutex<[String]>([])

    func write(level: LogLevel, line: String) {
        lines.withLock { $0.append(line) }
    }
}
