import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A blocking stream connection to a unix domain socket, with one deadline for everything.
///
/// Every `connect`, `write` and `read` waits at most until `deadline`; a call past it throws. The
/// descriptor is closed when the connection is deinitialized. Not shareable between threads.
final class UnixSocketConnection {
    /// Why an operation failed: the system call and its errno, or a timeout.
    enum Failure: Error, Equatable {
        case system(call: String, errno: Int32)
        case timedOut
        case pathTooLong(maximum: Int)

        /// A lower-case phrase such as `No such file or directory`.
        var reason: String {
            switch self {
            case .system(_, let code): String(cString: strerror(code))
            case .timedOut: "timed out"
            case .pathTooLong(let maximum): "the socket path is longer than \(maximum) bytes"
            }
        }
    }

    private let descriptor: Int32
    private let deadline: ContinuousClock.Instant

    /// Connects to the socket at `path`. While the socket file is missing from an existing
    /// directory or refuses connections (the server is still starting), it retries every 100 ms
    /// until `deadline`, as Headscale's CLI waits for its socket.
    init(path: String, deadline: ContinuousClock.Instant) throws(Failure) {
        var address = sockaddr_un()
        let maximumPathLength = MemoryLayout.size(ofValue: address.sun_path) - 1
        guard path.utf8.count <= maximumPathLength else { throw .pathTooLong(maximum: maximumPathLength) }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
        }
        self.deadline = deadline
        let directory = (path as NSString).deletingLastPathComponent
        let mayAppear = FileManager.default.fileExists(atPath: directory.isEmpty ? "." : directory)
        self.descriptor = try Self.openConnection(to: address, deadline: deadline, retryingMissing: mayAppear)
    }

    deinit { close(descriptor) }

    private static func openConnection(
        to address: sockaddr_un,
        deadline: ContinuousClock.Instant,
        retryingMissing: Bool
    ) throws(Failure) -> Int32 {
        while true {
            #if canImport(Glibc)
                let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            #else
                let descriptor = socket(AF_UNIX, SOCK_STREAM, 0)
            #endif
            guard descriptor >= 0 else { throw .system(call: "socket", errno: errno) }
            // connect(2) on a unix socket blocks while the server's backlog is full; the send
            // timeout bounds that wait.
            setSendTimeout(descriptor, until: deadline)
            var target = address
            let result = withUnsafePointer(to: &target) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if result == 0 {
                disableSIGPIPE(descriptor)
                return descriptor
            }
            let code = errno
            close(descriptor)
            let isRetryable =
                (code == ENOENT && retryingMissing) || code == ECONNREFUSED || code == EAGAIN || code == EINTR
            guard isRetryable, ContinuousClock.now + .milliseconds(100) < deadline else {
                throw .system(call: "connect", errno: code)
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    private static func setSendTimeout(_ descriptor: Int32, until deadline: ContinuousClock.Instant) {
        let (seconds, attoseconds) = max(deadline - ContinuousClock.now, .milliseconds(1)).components
        var timeout = timeval(tv_sec: .init(seconds), tv_usec: .init(attoseconds / 1_000_000_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    private static func disableSIGPIPE(_ descriptor: Int32) {
        #if canImport(Darwin)
            var on: Int32 = 1
            setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &on, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }

    /// Sends all of `bytes`.
    func write(_ bytes: [UInt8]) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            try wait(for: Int16(POLLOUT))
            let sent = bytes.withUnsafeBytes { raw in
                send(descriptor, raw.baseAddress! + offset, raw.count - offset, Self.sendFlags)
            }
            if sent < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .system(call: "send", errno: errno)
            }
            offset += sent
        }
    }

    /// Reads what is available, up to `maximum` bytes; returns an empty array at end of stream.
    func read(maximum: Int = 64 * 1024) throws(Failure) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: maximum)
        while true {
            try wait(for: Int16(POLLIN))
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, maximum, 0) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .system(call: "recv", errno: errno)
            }
            return Array(buffer.prefix(count))
        }
    }

    /// Waits until the socket is ready for `events` or the deadline passes.
    private func wait(for events: Int16) throws(Failure) {
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw .timedOut }
            let (seconds, attoseconds) = remaining.components
            let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            var request = pollfd(fd: descriptor, events: events, revents: 0)
            let result = poll(&request, 1, milliseconds)
            if result > 0 { return }
            if result < 0 && errno != EINTR { throw .system(call: "poll", errno: errno) }
        }
    }

    #if canImport(Glibc)
        private static let sendFlags = Int32(MSG_NOSIGNAL)
    #else
        private static let sendFlags: Int32 = 0
    #endif
}
