import CSQLite
import Foundation

/// One SQLite connection with Headscale's settings: WAL journal, `busy_timeout` 5000 ms, foreign keys on,
/// `synchronous=NORMAL`, and `wal_autocheckpoint` from ``StoreOptions``.
///
/// Not thread-safe and not Sendable: exactly one owner uses it at a time (``Store`` keeps it behind a mutex).
/// Prepared statements are cached by their SQL text and finalized when the connection closes.
final class Database {
    let path: String
    let options: StoreOptions
    private(set) var handle: OpaquePointer?
    private var statementCache: [String: Statement] = [:]
    private var transactionDepth = 0

    /// Opens (creating if needed) the database at `path` and applies the connection settings.
    init(path: String, options: StoreOptions = StoreOptions()) throws(StoreError) {
        self.path = path
        self.options = options
        var connection: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &connection, flags, nil)
        guard status == SQLITE_OK, let connection else {
            let detail = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(connection)
            throw StoreError(
                .filesystem,
                "cannot open SQLite database \(path): \(detail); check that the folder exists and is writable",
                sqliteCode: status
            )
        }
        handle = connection
        sqlite3_extended_result_codes(connection, 1)
        try execute("PRAGMA busy_timeout = 5000")
        try execute("PRAGMA foreign_keys = ON")
        try execute("PRAGMA synchronous = NORMAL")
        let mode = try queryOne("PRAGMA journal_mode = WAL") { $0.string(0) } ?? nil
        guard mode?.lowercased() == "wal" else {
            throw StoreError(
                .sqlite,
                "cannot switch \(path) to write-ahead logging (journal_mode is \(mode ?? "unknown")); "
                    + "put the database on a local file system that supports shared memory"
            )
        }
        try execute("PRAGMA wal_autocheckpoint = \(options.walAutocheckpoint)")
    }

    deinit {
        statementCache.removeAll()
        sqlite3_close_v2(handle)
    }

    /// The row id of the last successful INSERT on this connection.
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// The number of rows the last INSERT, UPDATE or DELETE changed.
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs one or more SQL statements that take no parameters and return no rows of interest.
    func execute(_ sql: String) throws(StoreError) {
        try measured(sql) { () throws(StoreError) in try executeUnmeasured(sql) }
    }

    private func executeUnmeasured(_ sql: String) throws(StoreError) {
        var message: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard status == SQLITE_OK else {
            let detail = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            throw Database.error(status: status, detail: detail, sql: sql)
        }
    }

    /// Returns the cached prepared statement for `sql`, reset and with its bindings cleared.
    func prepare(_ sql: String) throws(StoreError) -> Statement {
        if let cached = statementCache[sql] {
            cached.reset()
            return cached
        }
        var raw: OpaquePointer?
        let status = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard status == SQLITE_OK, let raw else {
            throw Database.error(status: status, detail: String(cString: sqlite3_errmsg(handle)), sql: sql)
        }
        let statement = Statement(raw, database: handle, sql: sql)
        statementCache[sql] = statement
        return statement
    }

    /// Runs `sql` with `bindings` and returns nothing; use it for INSERT, UPDATE and DELETE.
    func run(_ sql: String, _ bindings: [SQLValue] = []) throws(StoreError) {
        try measured(sql) { () throws(StoreError) in
            let statement = try prepare(sql)
            try statement.bind(bindings)
            while try statement.step() {}
        }
    }

    /// Runs a query and maps every row with `row`.
    func query<T>(
        _ sql: String,
        _ bindings: [SQLValue] = [],
        row: (Statement) throws(StoreError) -> T
    ) throws(StoreError) -> [T] {
        try measured(sql) { () throws(StoreError) -> [T] in
            let statement = try prepare(sql)
            try statement.bind(bindings)
            var rows: [T] = []
            while try statement.step() {
                rows.append(try row(statement))
            }
            return rows
        }
    }

    /// Runs a query and maps its first row, or returns nil when it has none.
    func queryOne<T>(
        _ sql: String,
        _ bindings: [SQLValue] = [],
        row: (Statement) throws(StoreError) -> T
    ) throws(StoreError) -> T? {
        try measured(sql) { () throws(StoreError) -> T? in
            let statement = try prepare(sql)
            try statement.bind(bindings)
            guard try statement.step() else { return nil }
            let value = try row(statement)
            statement.reset()
            return value
        }
    }

    /// Runs `body`, which executes `sql`, and logs the statement when ``StoreOptions`` turns statement
    /// or slow-statement logging on.
    private func measured<T>(_ sql: String, _ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        guard options.logsStatements else { return try body() }
        let start = options.clock()
        do {
            let value = try body()
            options.logStatement(sql, duration: options.clock() - start, failed: false)
            return value
        } catch {
            options.logStatement(sql, duration: options.clock() - start, failed: true)
            throw error
        }
    }

    /// Runs `body` inside `BEGIN IMMEDIATE` … `COMMIT`, rolling back when it throws.
    ///
    /// IMMEDIATE takes the write lock up front, so two connections never deadlock upgrading a read lock.
    /// Nested calls join the outer transaction.
    func transaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        if transactionDepth > 0 {
            return try body()
        }
        try execute("BEGIN IMMEDIATE")
        transactionDepth += 1
        defer { transactionDepth -= 1 }
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            // The original error matters more than a failed rollback, which SQLite also does on close.
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Builds the error for a failed SQLite call, naming the SQL and SQLite's message.
    static func error(status: Int32, detail: String, sql: String) -> StoreError {
        let reason = String(cString: sqlite3_errstr(status))
        let shortSQL = sql.count > 200 ? String(sql.prefix(200)) + "…" : sql
        let primary = status & 0xff
        let code: StoreError.Code = primary == SQLITE_CONSTRAINT ? .conflict : .sqlite
        return StoreError(
            code,
            "SQLite error \(status) (\(reason)): \(detail); while running: \(shortSQL)",
            sqliteCode: status
        )
    }
}
