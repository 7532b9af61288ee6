import Dispatch
import HSCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A listening TCP socket that hands each accepted connection over as a ``ByteStream``.
///
/// Accepted sockets are non-blocking with `TCP_NODELAY` set. The socket is bound and listening once
/// `init` returns, so ``localPort`` is known at once; connections wait in the backlog until `start`.
/// Every accepted connection counts against the listener's ``ConnectionLimits`` until its descriptor
/// closes; a connection over a cap is closed before any handler sees it.
public final class TCPListener: Sendable {
    /// The kernel's queue of connections not yet accepted.
    static let backlog: Int32 = 1024
    /// Descriptors kept free of connections for files, the database and other listeners.
    static let reservedDescriptors = 256

    private let loop: AcceptLoop
    /// The bound port, which is the kernel's choice when `init` was given port 0.
    public let localPort: UInt16

    /// The caps in force: `limits` with `maxConnections` lowered to fit the open-file limit.
    public var limits: ConnectionLimits { loop.limiter?.limits ?? .unlimited }

    /// Connections open now and how many of them are still pending, for diagnostics and tests.
    public var connectionCounts: (open: Int, pending: Int) {
        guard let counts = loop.limiter?.counts else { return (0, 0) }
        return (counts.total, counts.pending)
    }

    /// Binds and listens on `host:port` with `SO_REUSEADDR`.
    ///
    /// Raises the process's soft open-file limit to its hard limit first, since each connection
    /// takes a descriptor.
    ///
    /// - Parameters:
    ///   - host: an IPv4 or IPv6 literal (`0.0.0.0`, `::`, `127.0.0.1`, `[::1]`) or `localhost`.
    ///   - port: the TCP port; 0 picks a free one.
    ///   - limits: caps on connections in total and per source.
    /// - Throws: ``IOError`` naming the address when the host is invalid or the bind fails.
    public init(
        host: String,
        port: UInt16,
        limits: ConnectionLimits = ConnectionLimits(),
        logger: Logger
    ) throws(IOError) {
        let address = try IPSocketAddress(host: host, port: port)
        let description = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let fd = try syscall("socket", on: description) { socket(address.family, streamSocketType, 0) }
        do {
            var one: Int32 = 1
            try syscall("setsockopt(SO_REUSEADDR)", on: description) {
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            try bindSocket(fd, address, description)
            try syscall("listen", on: description) { listen(fd, Self.backlog) }
            setNonBlocking(fd)
            localPort = try boundPort(fd, description)
        } catch {
            try closeAndThrow(fd, error)
        }
        let bound = description.hasSuffix(":0") ? String(description.dropLast(2)) + ":\(localPort)" : description
        var fitted = limits
        fitted.maxConnections = min(limits.maxConnections, max(raiseOpenFileLimit() - Self.reservedDescriptors, 1))
        loop = AcceptLoop(fd: fd, address: bound, isTCP: true, limits: fitted, logger: logger)
    }

    deinit {
        loop.stop()
    }

    /// Starts accepting. `onAccept` runs on the new stream's queue and must install a handler.
    public func start(onAccept: @escaping @Sendable (any ByteStream) -> Void) {
        loop.start(onAccept: onAccept)
    }

    /// Stops accepting and closes the listening socket; accepted connections stay open.
    public func stop() {
        loop.stop()
    }
}

private func bindSocket(_ fd: Int32, _ address: IPSocketAddress, _ description: String) throws(IOError) {
    let result = address.withSockAddr { pointer, length in bind(fd, pointer, length) }
    guard result == 0 else {
        let code = errno
        let hint: String? =
            switch code {
            case EADDRINUSE: "another process is listening on this port; stop it or choose another port"
            case EACCES: "ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a higher port"
            case EADDRNOTAVAIL: "the address is not assigned to any interface on this host"
            default: nil
            }
        throw IOError(errno: code, call: "bind", subject: description, hint: hint)
    }
}

private func boundPort(_ fd: Int32, _ description: String) throws(IOError) -> UInt16 {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    try withUnsafeMutablePointer(to: &storage) { pointer throws(IOError) in
        try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(IOError) in
            _ = try syscall("getsockname", on: description) { getsockname(fd, address, &length) }
        }
    }
    let family = Int32(storage.ss_family)
    return withUnsafePointer(to: &storage) { pointer in
        if family == AF_INET6 {
            return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                UInt16(bigEndian: $0.pointee.sin6_port)
            }
        }
        return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
    }
}

/// Raises the soft open-file limit to the hard limit and returns the soft limit in force after.
func raiseOpenFileLimit() -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return Int.max }
    if limit.rlim_cur < limit.rlim_max {
        var raised = limit
        raised.rlim_cur = limit.rlim_max
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
    }
    return limit.rlim_cur >= rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
}
