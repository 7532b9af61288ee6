import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Polls `condition` every 10 ms until it is true or `timeout` passes and returns whether it became true.
/// It sleeps between polls, so a test waiting here yields its thread of the cooperative pool.
public func pollUntil(timeout: Duration = .seconds(60), _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { return false }
        try await Task.sleep(for: .milliseconds(10))
    }
    return true
}

/// A failed socket call of ``connectLoopback(port:receiveTimeoutSeconds:configure:)`` or ``sendAll(_:_:)``.
public struct LoopbackSocketError: Error, CustomStringConvertible {
    public let description: String
}

/// Opens a blocking TCP socket connected to 127.0.0.1:`port` whose receives time out after
/// `receiveTimeoutSeconds`. `configure` runs on the descriptor before it connects, for options
/// such as buffer sizes. The caller closes the returned descriptor.
public func connectLoopback(
    port: UInt16,
    receiveTimeoutSeconds: Int = 10,
    configure: (Int32) -> Void = { _ in }
) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw LoopbackSocketError(description: "socket failed: errno \(errno)") }
    var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    configure(fd)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard result == 0 else {
        let code = errno
        close(fd)
        throw LoopbackSocketError(description: "connect to 127.0.0.1:\(port) failed: errno \(code)")
    }
    return fd
}

/// Sends all of `bytes` on the blocking socket `fd`, without raising `SIGPIPE`.
public func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
    var offset = 0
    while offset < bytes.count {
        let sent = bytes.withUnsafeBytes {
            send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
        }
        guard sent > 0 else { throw LoopbackSocketError(description: "send failed: errno \(errno)") }
        offset += sent
    }
}
