import HSCore

/// Connection settings and statement logging for a ``Store``.
public struct StoreOptions: Sendable {
    /// `PRAGMA wal_autocheckpoint`: the write-ahead log size, in pages, that makes SQLite copy it back
    /// into the database file after a commit; 0 turns automatic checkpoints off. SQLite's default is 1000.
    public var walAutocheckpoint = 1000
    /// The destination of statement lines. Nil turns statement logging off, whatever the other fields are.
    public var logger: Logger?
    /// Log every statement at debug level with its SQL text and duration. Bound values are never
    /// logged, because they include key hashes and secrets; the SQL shows `?` in their place.
    public var logStatements = false
    /// Log statements that take longer than this at warning level; `.zero` turns this off.
    public var slowStatementThreshold: Duration = .zero
    /// The clock statement durations are measured with; tests pass one that advances on each read.
    public var clock: @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }

    public init(
        walAutocheckpoint: Int = 1000,
        logger: Logger? = nil,
        logStatements: Bool = false,
        slowStatementThreshold: Duration = .zero
    ) {
        self.walAutocheckpoint = walAutocheckpoint
        self.logger = logger
        self.logStatements = logStatements
        self.slowStatementThreshold = slowStatementThreshold
    }

    /// Whether any statement could be logged, so the connection skips reading the clock otherwise.
    var logsStatements: Bool {
        logger != nil && (logStatements || slowStatementThreshold > .zero)
    }

    /// Logs one finished statement: at warning level when slower than the threshold, else at debug
    /// level when every statement is logged.
    func logStatement(_ sql: String, duration: Duration, failed: Bool) {
        guard let logger else { return }
        let milliseconds =
            Double(duration.components.seconds) * 1000
            + Double(duration.components.attoseconds) / 1e15
        let fields = [
            ("sql", sql.count > 500 ? String(sql.prefix(500)) + "…" : sql),
            ("duration_ms", String(format: milliseconds)),
            ("failed", String(failed)),
        ]
        if slowStatementThreshold > .zero, duration > slowStatementThreshold {
            let threshold = slowStatementThreshold.components
            let thresholdMilliseconds = threshold.seconds * 1000 + threshold.attoseconds / 1_000_000_000_000_000
            logger.warning("slow SQL statement", fields + [("threshold_ms", String(thresholdMilliseconds))])
        } else if logStatements {
            logger.debug("SQL statement", fields)
        }
    }
}

extension String {
    /// Formats milliseconds with three decimals, such as `12.345`.
    fileprivate init(format milliseconds: Double) {
        let microseconds = Int64((milliseconds * 1000).rounded())
        let fraction = String(microseconds % 1000)
        self = "\(microseconds / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
