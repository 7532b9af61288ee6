import Dispatch
import HSCore
import HSCrypto
import HSPosix
import Synchronization

/// Tailscale's DERP relay, embedded in the control server.
///
/// Clients reach it through ``handleUpgrade(_:responder:)`` on `GET /derp`; each accepted stream
/// gets its own connection object, confined to the stream's queue. The registry of connected
/// clients is shared behind a mutex, so the server may be used from any queue. Nothing here opens a
/// listener: the HTTP server owns the sockets and TLS.
public final class DERPServer: Sendable {
    /// The server's node public key, sent in ServerKey and in the `Derp-Public-Key` header.
    public let publicKey: NodePublicKey

    // Immutable after init.
    let privateKey: [UInt8]
    /// The key mesh peers present in ClientInfo, or nil when this relay accepts none.
    let meshKey: [UInt8]?
    let logger: Logger
    let admitClient: (@Sendable (NodePublicKey) -> Bool)?
    let limits: DERPServerLimits
    /// One warning per client address per 10 s for connections closed over malformed frames.
    let offenders: RateLimitedLog
    /// The threads that read active clients' sockets, or nil when reads stay on dispatch sources.
    let pollLoops: PollLoopGroup?

    // Guarded by their mutexes.
    let registry = Mutex(DERPRegistry())
    private let counters = Mutex(Statistics())
    private let connectionCount = Atomic<Int>(0)

    /// Creates a server with the given node private key.
    ///
    /// - Parameters:
    ///   - privateKey: 32 raw Curve25519 bytes, which the caller loads and validates. Any other
    ///     length is a programming error and stops the process.
    ///   - logger: receives connection starts and ends, rejected clients and protocol errors.
    ///   - admitClient: called on the connection's queue with each client's key after its ClientInfo
    ///     box opens; returning false closes the connection. Nil admits every client.
    ///   - meshKey: 32 bytes shared with the relays this one meshes with. A client whose ClientInfo
    ///     carries the same key is a mesh peer: it is admitted without `admitClient`, and it may
    ///     watch connections, close clients and forward packets. Nil accepts no mesh peers; any
    ///     other length than 32 is a programming error and stops the process.
    public convenience init(
        privateKey: [UInt8],
        logger: Logger,
        admitClient: (@Sendable (NodePublicKey) -> Bool)? = nil,
        meshKey: [UInt8]? = nil
    ) {
        self.init(
            privateKey: privateKey,
            logger: logger,
            admitClient: admitClient,
            limits: DERPServerLimits(),
            meshKey: meshKey
        )
    }

    init(
        privateKey: [UInt8],
        logger: Logger,
        admitClient: (@Sendable (NodePublicKey) -> Bool)?,
        limits: DERPServerLimits,
        meshKey: [UInt8]? = nil
    ) {
        precondition(meshKey == nil || meshKey?.count == DERP.keyLength, "a DERP mesh key has 32 bytes")
        self.meshKey = meshKey
        self.privateKey = privateKey
        self.publicKey = NodePublicKey(bytes: NaClBox.publicKey(forPrivateKey: privateKey))!
        self.logger = logger
        self.admitClient = admitClient
        self.limits = limits
        self.offenders = RateLimitedLog(logger: logger, interval: limits.offenderLogInterval)
        self.pollLoops = Self.makePollLoops(limits: limits, logger: logger)
    }

    private static func makePollLoops(limits: DERPServerLimits, logger: Logger) -> PollLoopGroup? {
        guard limits.pollThreads > 0 else { return nil }
        do {
            return try PollLoopGroup(
                threadCount: limits.pollThreads,
                spinMicroseconds: limits.pollSpinMicroseconds
            ) { error in
                logger.error(
                    "a DERP relay thread stopped, so the clients it read no longer relay; restart the server",
                    [("error", String(describing: error))]
                )
            }
        } catch {
            logger.warning("DERP clients will be read through dispatch sources", [("error", String(describing: error))])
            return nil
        }
    }

    /// A snapshot of the counters since the server was created.
    public var statistics: Statistics {
        var snapshot = counters.withLock { $0 }
        snapshot.currentClients = registry.withLock { $0.clientCount }
        return snapshot
    }

    /// Closes every connection and rejects new ones. Connections close on their own queues, so some
    /// may still be closing when this returns.
    ///
    /// Each client that completed its handshake gets a Restarting frame first, telling it to
    /// reconnect after ``restartReconnectMilliseconds`` and to keep trying for
    /// ``restartTryForMilliseconds``, so clients come back quickly when the server restarts.
    public func shutdown() {
        let connections = registry.withLock { $0.shutDown() }
        logger.info("DERP server shutting down", [("connections", String(connections.count))])
        let restarting = DERPFrame.restarting(
            reconnectInMilliseconds: Self.restartReconnectMilliseconds,
            tryForMilliseconds: Self.restartTryForMilliseconds
        ).encoded()
        for connection in connections {
            connection.stream.queue.async {
                if connection.clientKey != nil {
                    connection.write(restarting)
                }
                connection.close(reason: "server shutting down")
            }
        }
    }

    /// The reconnect delay a Restarting frame announces on shutdown.
    public static let restartReconnectMilliseconds: UInt32 = 1_000
    /// The time a Restarting frame gives clients to keep trying to reconnect.
    public static let restartTryForMilliseconds: UInt32 = 60_000

    func count(_ counter: WritableKeyPath<Statistics, Int>, by amount: Int = 1) {
        counters.withLock { $0[keyPath: counter] += amount }
    }

    /// Applies several counter changes under one lock, for the relay's per-read and per-write totals.
    func updateCounters(_ update: (inout Statistics) -> Void) {
        counters.withLock { update(&$0) }
    }

    func nextConnectionNumber() -> Int {
        connectionCount.add(1, ordering: .relaxed).newValue
    }
}

extension DERPServer {
    /// Counters of a ``DERPServer``. Drops and rejections are counted here instead of logged one by one.
    public struct Statistics: Sendable, Equatable {
        /// Streams handed over by `handleUpgrade`, including those that never completed the handshake.
        public var acceptedConnections = 0
        /// Distinct node keys connected now.
        public var currentClients = 0
        /// Connections closed because ClientInfo was missing, late or did not open.
        public var handshakeFailures = 0
        /// Connections closed because `admitClient` returned false.
        public var rejectedClients = 0
        /// SendPacket frames received.
        public var packetsReceived = 0
        /// RecvPacket frames written to destination streams.
        public var packetsRelayed = 0
        /// Packet bytes in those frames, without keys and headers.
        public var bytesRelayed = 0
        /// Packets for a key that is not connected.
        public var packetsDroppedUnknownDestination = 0
        /// Packets dropped because the destination's send queue was full and the sender could not
        /// be paused: its last pause on that destination timed out.
        public var packetsDroppedQueueFull = 0
        /// Packets still queued when their destination disconnected, or held back from a paused
        /// sender when either side disconnected.
        public var packetsDroppedDisconnected = 0
        /// Times the server stopped reading a sender because the destination's send queue was full.
        public var readPauses = 0
        /// Read pauses that ended after `DERPServerLimits.readPauseLimitMilliseconds`, or because
        /// the stream could not pause, instead of when the destination's queue drained.
        public var readPausesTimedOut = 0
        /// PeerGone frames with reason "not here" sent.
        public var peerGoneNotHereSent = 0
        /// PeerGone frames with reason "disconnected" queued.
        public var peerGoneDisconnectedSent = 0
        /// Ping frames replied to with Pong.
        public var pingsReplied = 0
        /// Frames skipped because the server does not act on their type.
        public var ignoredFrames = 0
        /// Connections closed for a malformed or forbidden frame.
        public var protocolViolations = 0
        /// Connections closed because their writes stopped draining.
        public var writeStallDisconnects = 0
        /// Mesh peers connected now or before, counted at their handshake.
        public var meshPeersAccepted = 0
        /// ForwardPacket frames from mesh peers.
        public var packetsForwardedIn = 0
        /// Packets handed to a mesh link because their destination is a client of another relay.
        public var packetsForwardedOut = 0
        /// ClosePeer requests from mesh peers.
        public var closePeerRequests = 0

        public init() {}
    }
}

/// Timing and size limits of a ``DERPServer``; tests shorten them.
struct DERPServerLimits: Sendable {
    /// The minimum time between two offender log lines for one source and kind.
    var offenderLogInterval: Duration = .seconds(10)
    /// Time from ServerKey until ClientInfo must have arrived.
    var handshakeTimeoutMilliseconds = 10_000
    /// Interval of KeepAlive frames, plus a random jitter of up to `keepAliveJitterMilliseconds`
    /// chosen once per connection. Clients reconnect after 120 s without a frame.
    var keepAliveIntervalMilliseconds = 60_000
    var keepAliveJitterMilliseconds = 5_000
    /// Packets waiting for one destination. A sender whose packet meets a full queue stops being
    /// read until the queue is down to `sendQueueResumeDepth` packets.
    var sendQueueDepth = 32
    var sendQueueResumeDepth = 16
    /// The maximum time one packet keeps its sender paused, checked every quarter of it, so a pause
    /// ends 1 to 1.25 times this long after it began. Then the sender's packets to that destination
    /// drop the oldest queued packet when the queue is full, until the queue drains or closes. So a
    /// destination that reads slowly or not at all holds up the sender's other traffic only briefly.
    /// It is below `writeStallTimeoutMilliseconds` so that clients which read and write on one
    /// thread cannot stay stuck until the stall disconnect.
    var readPauseLimitMilliseconds = 500
    /// Bytes a paused sender's stream may still deliver before the pause ends as if timed out. Only
    /// streams that cannot pause reading deliver more than one read.
    var maxBytesReadWhilePaused = 256 << 10
    /// Queued packets move to the stream only while it has fewer unsent bytes than this, so a
    /// slow reader's backlog stays in the bounded send queue instead of the stream's buffer.
    var writeHighWaterBytes = 64 << 10
    /// A connection whose unsent bytes make no progress for this long is closed.
    var writeStallTimeoutMilliseconds = 2_000
    /// PeerGone "not here" replies per client: a burst of 3, refilled at 1 per second.
    var peerGoneBurst = 3.0
    var peerGonePerSecond = 1.0
    /// Control frames (PeerGone "disconnected") queued for one client before more are dropped.
    var controlQueueDepth = 1024
    /// Poll loop threads that read clients once their handshake is done, so a relayed packet costs
    /// one thread wake-up; 0 keeps every read on dispatch sources.
    var pollThreads = min(PollLoopGroup.availableProcessors, 4)
    /// How long a poll loop keeps polling for the next packet before it sleeps, when packets have
    /// been arriving closer together than this.
    /// Polling costs CPU only while packets keep arriving; on an idle relay the threads sleep.
    var pollSpinMicroseconds = 50
}
