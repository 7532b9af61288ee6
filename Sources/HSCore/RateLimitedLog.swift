import Synchronization

/// Warnings about misbehaving clients, at most one line per source and kind per interval.
///
/// A hostile client can trigger the same rejection thousands of times a second; logging each one
/// would let it fill the disk. The first event from a source starts an interval, events within it
/// are counted, and the next line after the interval reports that count as `similar_since_last`.
/// Sources are the client's address without its port (IPv4 address, or IPv6 address in brackets),
/// so that reconnecting from new ports does not reset the limit.
///
/// Thread-safe: the table sits behind a `Mutex`. It keeps at most `maxSources` entries plus one
/// overflow entry. When it is full, entries whose interval has passed are dropped. If none has
/// passed, a new source shares the overflow entry, so an attacker cycling through addresses still
/// gets one line per interval in total. Callers must never pass a secret in `message` or `fields`.
public final class RateLimitedLog: Sendable {
    /// The destination of the lines, each written at `level`.
    public let logger: Logger
    public let level: LogLevel
    /// The shortest time between two lines for the same source and kind.
    public let interval: Duration
    public let maxSources: Int
    private let now: @Sendable () -> ContinuousClock.Instant
    private let table = Mutex([Key: Entry]())

    private struct Key: Hashable {
        let source: String
        let kind: String
    }

    private struct Entry {
        var lastLine: ContinuousClock.Instant
        var suppressed: Int
    }

    /// Makes a limiter that writes through `logger`.
    ///
    /// - Parameters:
    ///   - interval: the minimum time between two lines for one source and kind; 10 s by default.
    ///   - maxSources: how many source and kind pairs are tracked at once.
    ///   - now: the monotonic clock; tests may pass their own.
    public init(
        logger: Logger,
        level: LogLevel = .warning,
        interval: Duration = .seconds(10),
        maxSources: Int = 4096,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.logger = logger
        self.level = level
        self.interval = interval
        self.maxSources = max(1, maxSources)
        self.now = now
    }

    /// Logs `message` with `source=` (the peer's address without its port) and `fields`, unless a
    /// line for the same source and `kind` went out less than `interval` ago. Returns true when the
    /// line was written.
    ///
    /// - Parameters:
    ///   - kind: a short stable name for the offence, such as `http-rejected` or `noise-record`.
    ///   - peer: the remote address as `ip:port`, `[ipv6]:port` or a bare address.
    @discardableResult
    public func note(
        _ message: @autoclosure () -> String,
        kind: String,
        peer: String,
        _ fields: [(String, String)] = []
    ) -> Bool {
        guard logger.isEnabled(level) else { return false }
        let source = Self.source(of: peer)
        let instant = now()
        let suppressed = table.withLock { table in admit(&table, Key(source: source, kind: kind), at: instant) }
        guard let suppressed else { return false }
        let extra = [("source", source), ("kind", kind)] + fields + [("similar_since_last", String(suppressed))]
        logger.log(level, message(), extra)
        return true
    }

    /// Returns the count held back since the last line when a line may go out now, or nil.
    private func admit(_ table: inout [Key: Entry], _ key: Key, at instant: ContinuousClock.Instant) -> Int? {
        var key = key
        if table[key] == nil, table.count >= maxSources {
            table = table.filter { instant - $0.value.lastLine < interval }
            if table.count >= maxSources { key = Key(source: "overflow", kind: key.kind) }
        }
        guard var entry = table[key] else {
            table[key] = Entry(lastLine: instant, suppressed: 0)
            return 0
        }
        if instant - entry.lastLine < interval {
            entry.suppressed += 1
            table[key] = entry
            return nil
        }
        let suppressed = entry.suppressed
        table[key] = Entry(lastLine: instant, suppressed: 0)
        return suppressed
    }

    /// Returns the address part of `peer`: `1.2.3.4:80` gives `1.2.3.4`, `[::1]:80` gives `[::1]`.
    public static func source(of peer: String) -> String {
        if peer.hasPrefix("["), let close = peer.firstIndex(of: "]") {
            return String(peer[...close])
        }
        let colons = peer.filter { $0 == ":" }.count
        guard colons == 1, let colon = peer.lastIndex(of: ":") else { return peer }
        return String(peer[..<colon])
    }
}
