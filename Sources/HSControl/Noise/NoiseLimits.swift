import Dispatch

/// Limits on one `/ts2021` control connection.
struct NoiseLimits: Sendable {
    /// How long a connection may stay without an open HTTP/2 stream before it is closed: after the
    /// Noise handshake, and again after its last stream ends. A map stream keeps it open however
    /// quiet it is, and HTTP/2 PINGs do not count as activity.
    var idleTimeout: DispatchTimeInterval = .seconds(60)
    /// Map bytes one connection may queue for a client that does not read: the map stream's
    /// HTTP/2 buffer plus the socket's send buffer. Beyond it the connection is closed, and the
    /// client reconnects and gets a fresh full map.
    var maxPendingMapBytes = 8 << 20
}
