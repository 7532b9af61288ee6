import Dispatch
import HSCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A listening unix-domain stream socket that hands each accepted connection over as a ``ByteStream``.
///
/// Each stream's `remoteAddress` is the socket path. `stop` closes the socket and removes its file.
public final class UnixListener: Sendable {
    static let backlog: Int32 = 128

    private let loop: AcceptLoop
    /// The socket file's path.
    public let path: String

    /// Creates the socket file at `path` with mode `permissions` and listens on it.
    ///
    /// A file already at `path` is removed first when it is a socket, which a previous run left
    /// behind; any other kind of file is an error.
    ///
    /// - Throws: ``IOError`` naming the path when it is too long, is not a socket, or cannot be bound.
    public init(path: String, permissions: mode_t, logger: Logger) throws(IOError) {
        var address = try unixAddress(path)
        try removeStaleSocket(path)
        let fd = try syscall("socket", on: path) { socket(AF_UNIX, streamSocketType, 0) }
        do {
            let length = socklen_t(MemoryLayout<sockaddr_un>.size)
            try withUnsafePointer(to: &address) { pointer throws(IOError) in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic throws(IOError) in
                    _ = try syscall("bind", on: path) { bind(fd, generic, length) }
                }
            }
            // Nobody can connect before listen(), so the mode is in place before the first client.
            try syscall("chmod", on: path) { chmod(path, permissions) }
            try syscall("listen", on: path) { listen(fd, Self.backlog) }
            setNonBlocking(fd)
        } catch {
            _ = unlink(path)
            try closeAndThrow(fd, error)
        }
        self.path = path
        loop = AcceptLoop(fd: fd, address: path, isTCP: false, limits: nil, logger: logger)
    }

    deinit {
        stop()
    }

    /// Starts accepting. `onAccept` runs on the new stream's queue and must install a handler.
    public func start(onAccept: @escaping @Sendable (any ByteStream) -> Void) {
        loop.start(onAccept: onAccept)
    }

    /// Stops accepting, closes the socket and removes its file; accepted connections stay open.
    public func stop() {
        if loop.stop() { _ = unlink(path) }
    }
}

private func unixAddress(_ path: String) throws(IOError) -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    guard !bytes.isEmpty, bytes.count < capacity, !bytes.contains(0) else {
        throw IOError(
            errno: ENAMETOOLONG,
            call: "bind",
            subject: path,
            hint: "a unix socket path must be 1 to \(capacity - 1) bytes; choose a shorter path"
        )
    }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: bytes)
    }
    return address
}

private func removeStaleSocket(_ path: String) throws(IOError) {
    var info = stat()
    guard lstat(path, &info) == 0 else {
        let code = errno
        if code == ENOENT { return }
        throw IOError(errno: code, call: "lstat", subject: path)
    }
    guard info.st_mode & S_IFMT == S_IFSOCK else {
        throw IOError(
            errno: EEXIST,
            call: "bind",
            subject: path,
            hint: "the path exists and is not a socket; remove it or choose another path"
        )
    }
    try syscall("unlink", on: path) { unlink(path) }
}
