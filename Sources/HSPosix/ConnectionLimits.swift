/// Caps on the connections one ``TCPListener`` holds, so that one source cannot crowd out the rest.
///
/// A connection is *pending* from its accept until the protocol on top calls
/// ``ConnectionLease/markEstablished()``. ``HSHTTP`` calls it when the first request head is complete,
/// which for TLS comes after the handshake. Pending connections are the cheap ones to open in bulk and
/// the ones a real client never keeps for long, so they have tighter caps than established ones.
///
/// A source is an IPv4 address, or the /64 prefix of an IPv6 address, because one IPv6 host usually
/// owns a whole /64. Behind a reverse proxy every connection comes from the proxy's address: raise
/// the per-source caps there.
///
/// What happens at each cap:
/// - `maxPendingPerSource` or `maxConnectionsPerSource` reached: the new connection is closed at once (rejected).
/// - `maxPendingConnections` reached: the oldest pending connection, from any source, is closed to
///   make room, so a flood of slow handshakes cannot lock out a client that arrives later.
/// - `maxConnections` reached: the oldest pending connection is closed to make room; when none is
///   pending the new connection is closed.
public struct ConnectionLimits: Sendable, Equatable {
    /// Connections open at once on the listener. It is lowered to the open-file limit minus a
    /// reserve when that is smaller.
    public var maxConnections: Int
    /// Connections open at once from one source, pending or established.
    public var maxConnectionsPerSource: Int
    /// Pending connections at once on the listener.
    public var maxPendingConnections: Int
    /// Pending connections at once from one source.
    public var maxPendingPerSource: Int
    /// The shortest gap between two log lines about rejected or evicted connections. Events in
    /// between are counted, and the count goes into the next line.
    public var logInterval: Duration

    public init(
        maxConnections: Int = 16_384,
        maxConnectionsPerSource: Int = 1_024,
        maxPendingConnections: Int = 2_048,
        maxPendingPerSource: Int = 64,
        logInterval: Duration = .seconds(10)
    ) {
        self.maxConnections = maxConnections
        self.maxConnectionsPerSource = maxConnectionsPerSource
        self.maxPendingConnections = maxPendingConnections
        self.maxPendingPerSource = maxPendingPerSource
        self.logInterval = logInterval
    }

    /// No caps at all, for listeners that only trusted local clients reach.
    public static let unlimited = ConnectionLimits(
        maxConnections: .max,
        maxConnectionsPerSource: .max,
        maxPendingConnections: .max,
        maxPendingPerSource: .max
    )
}
