import Dispatch
import HSCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Accepts connections on a bound, listening socket and hands each one over as a ``SocketStream``.
///
/// The listening descriptor is watched by one read source on a private serial queue. `start` and
/// `stop` may be called from any thread; the mutable state sits behind a `Mutex`.
final class AcceptLoop: Sendable {
    /// Connections taken per read event before yielding to other work on the queue.
    static let acceptBatch = 64
    /// Pause after the process or system runs out of descriptors, so the loop does not spin.
    static let exhaustionPause: DispatchTimeInterval = .milliseconds(100)

    let fd: Int32
    let address: String
    let logger: Logger
    let isTCP: Bool
    /// Caps on what this listener holds; nil for unix sockets.
    let limiter: ConnectionLimiter?
    private let queue = DispatchQueue(label: "hs.listener")
    private let state = Mutex(LoopState())

    private struct LoopState: ~Copyable {
        var source: (any DispatchSourceRead)?
        var stopped = false
        var paused = false
    }

    init(fd: Int32, address: String, isTCP: Bool, limits: ConnectionLimits?, logger: Logger) {
        self.fd = fd
        self.address = address
        self.isTCP = isTCP
        self.logger = logger
        self.limiter = limits.map { ConnectionLimiter(limits: $0, address: address, logger: logger) }
    }

    /// Starts accepting; `onAccept` runs on each new stream's queue. A second call does nothing.
    func start(onAccept: @escaping @Sendable (any ByteStream) -> Void) {
        state.withLock { state in
            guard state.source == nil, !state.stopped else { return }
            let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
            source.setEventHandler { [self] in self.acceptBatch(onAccept: onAccept) }
            source.setCancelHandler { [fd] in _ = systemClose(fd) }
            state.source = source
            source.resume()
        }
        logger.info("listening", [("address", address)])
    }

    /// Stops accepting and closes the listening socket; open connections are not touched.
    /// Returns false when the loop had already stopped.
    @discardableResult
    func stop() -> Bool {
        let stopped = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.stopped = true
            guard let source = state.source else {
                _ = systemClose(fd)
                return true
            }
            source.cancel()
            // A suspended source runs its cancel handler, which closes the socket, only once resumed.
            if state.paused { source.resume() }
            state.source = nil
            return true
        }
        if stopped { logger.info("stopped listening", [("address", address)]) }
        return stopped
    }

    /// Stops watching the socket for `exhaustionPause`.
    private func pause() {
        state.withLock { state in
            guard let source = state.source, !state.paused else { return }
            state.paused = true
            source.suspend()
        }
        queue.asyncAfter(deadline: .now() + Self.exhaustionPause) { [self] in
            state.withLock { state in
                guard let source = state.source, state.paused else { return }
                state.paused = false
                source.resume()
            }
        }
    }

    private func acceptBatch(onAccept: @escaping @Sendable (any ByteStream) -> Void) {
        for _ in 0..<Self.acceptBatch {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let accepted = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                    Result { () throws(IOError) -> Int32 in
                        try syscall("accept", on: self.address) { acceptConnection(fd, address, &length) }
                    }
                }
            }
            switch accepted {
            case .success(let client):
                hand(client, peer: isTCP ? formatSocketAddress(storage) : address, onAccept: onAccept)
            case .failure(let error):
                guard handleAcceptError(error) else { return }
            }
        }
    }

    private func hand(_ client: Int32, peer: String, onAccept: @escaping @Sendable (any ByteStream) -> Void) {
        if isTCP {
            var one: Int32 = 1
            _ = setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        guard let limiter else {
            let stream = SocketStream(fileDescriptor: client, remoteAddress: peer)
            logger.trace("accepted connection", [("peer", peer)])
            stream.queue.async { onAccept(stream) }
            return
        }
        switch limiter.admit(peer: peer) {
        case .rejected:
            _ = systemClose(client)
        case .admitted(let lease, let evicted):
            if let evicted { evicted.queue.async { evicted.teardown() } }
            let stream = SocketStream(fileDescriptor: client, remoteAddress: peer) { lease.release() }
            limiter.attach(stream, to: lease)
            stream.queue.setSpecific(key: ConnectionLease.queueKey, value: lease)
            logger.trace("accepted connection", [("peer", peer)])
            stream.queue.async { onAccept(stream) }
        }
    }

    /// Returns true when the loop should try `accept` again at once.
    private func handleAcceptError(_ error: IOError) -> Bool {
        switch error.errno {
        case EAGAIN, EWOULDBLOCK:
            return false
        case ECONNABORTED, EPROTO:
            // The peer gave up between the kernel queueing it and our accept; try the next one.
            return true
        case EMFILE, ENFILE, ENOBUFS, ENOMEM:
            logger.error(
                "accepting connections paused: out of descriptors or memory; raise the open-file limit (ulimit -n)",
                [("address", address), ("error", error.description)]
            )
            pause()
            return false
        default:
            logger.error("accept failed", [("address", address), ("error", error.description)])
            return false
        }
    }
}

#if os(Linux)
    /// The `SOCK_STREAM` type with close-on-exec, for `socket(2)`.
    let streamSocketType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
#else
    let streamSocketType = SOCK_STREAM
#endif

/// Accepts one connection and marks it close-on-exec; `SocketStream` makes it non-blocking.
private func acceptConnection(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>, _ length: inout socklen_t)
    -> Int32
{
    let client = accept(fd, address, &length)
    if client >= 0 { _ = fcntl(client, F_SETFD, FD_CLOEXEC) }
    return client
}

/// Closes `fd` and rethrows `error`, for setup paths that fail half-way.
func closeAndThrow(_ fd: Int32, _ error: IOError) throws(IOError) -> Never {
    _ = systemClose(fd)
    throw error
}
