import Dispatch

/// One accepted connection's place under its listener's ``ConnectionLimits``.
///
/// The accept loop creates the lease and attaches it to the connection's queue; the protocol layer
/// finds it with ``of(_:)`` and calls ``markEstablished()`` once the client has proved it speaks the
/// protocol. The lease is given back when the socket's descriptor closes. Thread-safe.
public final class ConnectionLease: Sendable {
    /// The key under which a socket's queue carries its lease.
    static let queueKey = DispatchSpecificKey<ConnectionLease>()

    let id: UInt64
    let limiter: ConnectionLimiter

    init(id: UInt64, limiter: ConnectionLimiter) {
        self.id = id
        self.limiter = limiter
    }

    /// The lease of the connection that runs on `queue`, or nil when its listener keeps no limits
    /// (unix sockets, streams made in tests).
    public static func of(_ queue: DispatchQueue) -> ConnectionLease? {
        queue.getSpecific(key: queueKey)
    }

    /// Moves the connection from the pending caps to the established ones. Later calls do nothing.
    public func markEstablished() {
        limiter.establish(id)
    }

    /// Gives the connection's place back; called when its descriptor closes. Later calls do nothing.
    func release() {
        limiter.release(id)
    }
}
