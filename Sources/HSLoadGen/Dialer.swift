import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// Opens non-blocking TCP connections from chosen loopback source addresses.
///
/// Each connection binds its source address before `connect`, so many simulated clients spread
/// over `127.0.0.0/8` and do not share one address's ephemeral ports. `IP_BIND_ADDRESS_NO_PORT`
/// defers the port choice to `connect`. Completion is event-driven: a write source on `queue`
/// fires when the handshake finishes, so no thread waits per connection.
public enum Dialer {
    /// Linux `IP_BIND_ADDRESS_NO_PORT`, which Glibc's headers do not export to Swift.
    private static let bindAddressNoPort: Int32 = 24

    /// Starts a connection to `host:port` from `source` (port 0) and calls `completion` on `queue`
    /// with the connected descriptor or the error. The caller owns the descriptor afterwards.
    public static func connect(
        host: String,
        port: UInt16,
        source: String,
        queue: DispatchQueue,
        completion: @escaping @Sendable (Result<Int32, LoadGenError>) -> Void
    ) {
        // Close-on-exec keeps the sockets out of the restart command and the server it starts.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            let message = "socket() failed: \(String(cString: strerror(errno))); raise the open-file limit (ulimit -n)"
            queue.async { completion(.failure(LoadGenError(message))) }
            return
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_IP), bindAddressNoPort, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        do {
            try withAddress(source, port: 0) { Glibc.bind(fd, $0, $1) == 0 ? nil : "bind to \(source)" }
            try withAddress(host, port: port) { address, length in
                let result = Glibc.connect(fd, address, length)
                return result == 0 || errno == EINPROGRESS ? nil : "connect to \(host):\(port)"
            }
        } catch {
            Glibc.close(fd)
            queue.async { completion(.failure(error)) }
            return
        }
        waitForConnect(fd, host: host, port: port, queue: queue, completion: completion)
    }

    private static func waitForConnect(
        _ fd: Int32,
        host: String,
        port: UInt16,
        queue: DispatchQueue,
        completion: @escaping @Sendable (Result<Int32, LoadGenError>) -> Void
    ) {
        let source = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler {
            source.cancel()
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else {
                Glibc.close(fd)
                let reason = String(cString: strerror(error))
                completion(.failure(LoadGenError("connect to \(host):\(port) failed: \(reason)")))
                return
            }
            completion(.success(fd))
        }
        source.resume()
    }

    /// Calls `body` with `host:port` as a `sockaddr_in`; `body` returns nil or the failed call's name.
    private static func withAddress(
        _ host: String,
        port: UInt16,
        _ body: (UnsafePointer<sockaddr>, socklen_t) -> String?
    ) throws(LoadGenError) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw LoadGenError("\"\(host)\" is not an IPv4 address; pass a literal such as 127.0.0.1")
        }
        let failure = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if let failure {
            throw LoadGenError("\(failure) failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Returns the source address of client `index`: 127.0.0.2 to 127.0.0.254, then the next /24 up.
    public static func sourceAddress(forClient index: Int) -> String {
        let perBlock = 253
        let block = index / perBlock
        let host = 2 + index % perBlock
        return "127.\(block / 250 % 250).\(block % 250).\(host)"
    }
}
