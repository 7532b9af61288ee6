import HSCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Counts one listener's connections per source and decides, at each accept, whether the new one
/// may stay and which pending connection makes room for it. Thread-safe: the counts sit in a `Mutex`.
final class ConnectionLimiter: Sendable {
    let limits: ConnectionLimits
    let logger: Logger
    let address: String
    let state = Mutex(LimiterState())

    /// What an accept turned out to be.
    enum Admission {
        /// The connection may stay; `evicted` is an older pending one to close to make room.
        case admitted(ConnectionLease, evicted: SocketStream?)
        case rejected(reason: String)
    }

    init(limits: ConnectionLimits, address: String, logger: Logger) {
        self.limits = limits
        self.address = address
        self.logger = logger
    }

    /// Decides about a connection just accepted from `peer` (`ip:port` or `[ipv6]:port`).
    func admit(peer: String) -> Admission {
        let source = Self.sourceKey(peer)
        let outcome = state.withLock { state in admitLocked(&state, source: source) }
        switch outcome {
        case .rejected(let reason):
            note("rejected connection", source: source, reason: reason)
        case .admitted(_, let evicted?):
            note(
                "closed the oldest unfinished connection to make room",
                source: evicted.remoteAddress,
                reason: "pending connections at the listener's cap"
            )
        case .admitted:
            break
        }
        return outcome
    }

    /// Attaches the stream a lease belongs to, so that an eviction can close it.
    func attach(_ stream: SocketStream, to lease: ConnectionLease) {
        state.withLock { state in state.records[lease.id]?.stream = stream }
    }

    func establish(_ id: UInt64) {
        state.withLock { state in
            guard var record = state.records[id], record.isPending else { return }
            record.isPending = false
            state.records[id] = record
            state.pendingTotal -= 1
            state.sources[record.source, default: SourceCount()].pending -= 1
        }
    }

    func release(_ id: UInt64) {
        state.withLock { state in _ = state.remove(id) }
    }

    /// Connections and pending connections the limiter counts now, for tests and diagnostics.
    var counts: (total: Int, pending: Int) {
        state.withLock { state in (state.records.count, state.pendingTotal) }
    }

    private func admitLocked(_ state: inout LimiterState, source: String) -> Admission {
        let counts = state.sources[source] ?? SourceCount()
        if counts.pending >= limits.maxPendingPerSource {
            return .rejected(
                reason: "unfinished connections from this source at maxPendingPerSource "
                    + String(limits.maxPendingPerSource)
            )
        }
        if counts.total >= limits.maxConnectionsPerSource {
            return .rejected(
                reason: "connections from this source at maxConnectionsPerSource "
                    + String(limits.maxConnectionsPerSource)
            )
        }
        var evicted: SocketStream?
        if state.records.count >= limits.maxConnections || state.pendingTotal >= limits.maxPendingConnections {
            guard let oldest = state.evictOldestPending() else {
                return .rejected(reason: "listener at maxConnections " + String(limits.maxConnections))
            }
            evicted = oldest
        }
        let lease = ConnectionLease(id: state.nextID, limiter: self)
        state.nextID += 1
        state.records[lease.id] = LeaseRecord(source: source)
        state.pendingOrder.append(lease.id)
        state.pendingTotal += 1
        state.sources[source, default: SourceCount()].total += 1
        state.sources[source, default: SourceCount()].pending += 1
        return .admitted(lease, evicted: evicted)
    }

    /// Logs at most one line per `logInterval`, counting the ones it holds back.
    private func note(_ message: String, source: String, reason: String) {
        let now = ContinuousClock.now
        let suppressed = state.withLock { state -> Int? in
            if let last = state.lastLog, now - last < limits.logInterval {
                state.suppressedLogs += 1
                return nil
            }
            defer { state.suppressedLogs = 0 }
            state.lastLog = now
            return state.suppressedLogs
        }
        guard let suppressed else { return }
        logger.warning(
            message,
            [("listener", address), ("source", source), ("reason", reason), ("similar_since_last", String(suppressed))]
        )
    }

    /// The address a peer is counted under: an IPv4 address, or the /64 of an IPv6 one.
    static func sourceKey(_ peer: String) -> String {
        if peer.hasPrefix("["), let close = peer.firstIndex(of: "]") {
            let ip = String(peer[peer.index(after: peer.startIndex)..<close])
            var address = in6_addr()
            guard inet_pton(AF_INET6, ip, &address) == 1 else { return ip }
            let bytes = withUnsafeBytes(of: address) { Array($0.prefix(8)) }
            let groups = stride(from: 0, to: 8, by: 2).map {
                String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16)
            }
            return groups.joined(separator: ":") + "::/64"
        }
        guard let colon = peer.lastIndex(of: ":") else { return peer }
        return String(peer[..<colon])
    }
}

/// Connections from one source.
struct SourceCount {
    var total = 0
    var pending = 0
}

/// One admitted connection.
struct LeaseRecord {
    let source: String
    var isPending = true
    weak var stream: SocketStream?
}

/// The limiter's counts; only touched under its `Mutex`.
struct LimiterState {
    var records: [UInt64: LeaseRecord] = [:]
    var sources: [String: SourceCount] = [:]
    var pendingTotal = 0
    /// Lease ids in accept order; ids that stopped being pending are skipped when met and
    /// compacted away when they make up most of the array.
    var pendingOrder: [UInt64] = []
    var pendingHead = 0
    var nextID: UInt64 = 0
    var lastLog: ContinuousClock.Instant?
    var suppressedLogs = 0

    /// Forgets `id`, returning its record; nil when it was already gone.
    mutating func remove(_ id: UInt64) -> LeaseRecord? {
        guard let record = records.removeValue(forKey: id) else { return nil }
        var counts = sources[record.source] ?? SourceCount()
        counts.total -= 1
        if record.isPending {
            counts.pending -= 1
            pendingTotal -= 1
        }
        sources[record.source] = counts.total > 0 ? counts : nil
        compactPendingOrder()
        return record
    }

    /// Forgets the oldest pending connection and returns its stream for the caller to close.
    /// Returns nil when nothing is pending.
    mutating func evictOldestPending() -> SocketStream? {
        while pendingHead < pendingOrder.count {
            let id = pendingOrder[pendingHead]
            pendingHead += 1
            guard let record = records[id], record.isPending else { continue }
            _ = remove(id)
            // A stream already gone has released nothing yet; forgetting it is all that is left.
            if let stream = record.stream { return stream }
        }
        return nil
    }

    private mutating func compactPendingOrder() {
        let live = pendingOrder.count - pendingHead
        guard pendingOrder.count > 64, live > 2 * pendingTotal + 32 || pendingHead > pendingOrder.count / 2 else {
            return
        }
        pendingOrder = pendingOrder[pendingHead...].filter { records[$0]?.isPending == true }
        pendingHead = 0
    }
}
