import HSCore
import Synchronization
import Testing

@testable import HSStore

/// Collects log lines in memory.
final class CapturedLog: LogSink {
    let lines = Mutex<[(level: LogLevel, line: String)]>([])

    func write(level: LogLevel, line: String) {
        lines.withLock { $0.append((level, line)) }
    }

    func lines(at level: LogLevel) -> [String] {
        lines.withLock { $0.filter { $0.level == level }.map(\.line) }
    }
}

/// `wal_autocheckpoint` and statement logging.
@Suite struct StoreOptionsTests {
    static func pragma(_ store: Store) throws -> Int64? {
        try store.withDatabase { (database) throws(StoreError) in
            try database.queryOne("PRAGMA wal_autocheckpoint") { $0.int64(0) }
        }
    }

    @Test func walAutocheckpointDefault() throws {
        let folder = TemporaryFolder()
        let store = try Store(path: folder.file("db.sqlite"), bcryptCost: 4)
        #expect(try Self.pragma(store) == 1000)
    }

    @Test func walAutocheckpointApplied() throws {
        let folder = TemporaryFolder()
        let store = try Store(
            path: folder.file("db.sqlite"),
            bcryptCost: 4,
            options: StoreOptions(walAutocheckpoint: 250)
        )
        #expect(try Self.pragma(store) == 250)
        let off = try Store(path: folder.file("off.sqlite"), bcryptCost: 4, options: StoreOptions(walAutocheckpoint: 0))
        #expect(try Self.pragma(off) == 0)
    }

    @Test func walAutocheckpointRejectsNegative() throws {
        let folder = TemporaryFolder()
        #expect(throws: StoreError.self) {
            try Store(path: folder.file("db.sqlite"), bcryptCost: 4, options: StoreOptions(walAutocheckpoint: -1))
        }
    }

    @Test func debugLogsStatementsWithoutValues() throws {
        let folder = TemporaryFolder()
        let sink = CapturedLog()
        let logger = Logger(label: "test", minimumLevel: .debug, sink: sink)
        let store = try Store(
            path: folder.file("db.sqlite"),
            bcryptCost: 4,
            options: StoreOptions(logger: logger, logStatements: true)
        )
        _ = try store.createUser(name: "secret-bearing-name")
        let lines = sink.lines(at: .debug)
        let insert = lines.filter { $0.contains("INSERT INTO users") }
        #expect(!insert.isEmpty, "\(lines.suffix(5))")
        #expect(insert.allSatisfy { $0.contains("SQL statement") })
        #expect(insert.allSatisfy { $0.contains("duration_ms=") })
        #expect(!lines.contains { $0.contains("secret-bearing-name") })
        #expect(sink.lines(at: .warning).isEmpty)
    }

    @Test func debugOffLogsNothing() throws {
        let folder = TemporaryFolder()
        let sink = CapturedLog()
        let logger = Logger(label: "test", minimumLevel: .trace, sink: sink)
        let store = try Store(path: folder.file("db.sqlite"), bcryptCost: 4, options: StoreOptions(logger: logger))
        _ = try store.createUser(name: "alice")
        #expect(sink.lines.withLock { $0.isEmpty })
    }

    @Test func slowStatementsLoggedAsWarnings() throws {
        let folder = TemporaryFolder()
        let sink = CapturedLog()
        let logger = Logger(label: "test", minimumLevel: .debug, sink: sink)
        // Each clock read is 5 ms after the previous one, so every statement takes 5 ms.
        let reads = Mutex<Int64>(0)
        let origin = ContinuousClock.now
        var options = StoreOptions(logger: logger, slowStatementThreshold: .milliseconds(1))
        options.clock = {
            origin
                + .milliseconds(
                    5
                        * reads.withLock {
                            $0 += 1; return $0
                        }
                )
        }
        let store = try Store(path: folder.file("db.sqlite"), bcryptCost: 4, options: options)
        _ = try store.createUser(name: "alice")
        let warnings = sink.lines(at: .warning)
        let insert = try #require(warnings.first { $0.contains("INSERT INTO users") }, "\(warnings.suffix(3))")
        #expect(insert.contains("slow SQL statement"))
        #expect(insert.contains("duration_ms=5.000"))
        #expect(insert.contains("threshold_ms=1"))
        #expect(sink.lines(at: .debug).isEmpty)
    }

    @Test func fastStatementsNotSlow() throws {
        let folder = TemporaryFolder()
        let sink = CapturedLog()
        let logger = Logger(label: "test", minimumLevel: .debug, sink: sink)
        let origin = ContinuousClock.now
        var options = StoreOptions(logger: logger, slowStatementThreshold: .milliseconds(1))
        options.clock = { origin }
        let store = try Store(path: folder.file("db.sqlite"), bcryptCost: 4, options: options)
        _ = try store.createUser(name: "alice")
        #expect(sink.lines.withLock { $0.isEmpty })
    }
}
