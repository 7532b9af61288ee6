import CSQLite
import Foundation

/// The migration state of a database file, as ``Store/inspect(path:)`` reads it without changing it.
public struct DatabaseInspection: Sendable, Equatable {
    /// The migrations that opening the store would apply, such as `0002_node_indexes`.
    public var pendingMigrations: [String]
    /// Whether the file is a Headscale 0.29 database that opening the store would adopt.
    public var isHeadscaleDatabase: Bool
}

extension Store {
    /// Reads the migration state of the database at `path` without writing anything: the file is
    /// opened read-only as immutable, so SQLite creates no journal, WAL or lock files.
    ///
    /// Changes still in another process's write-ahead log are not seen, so a migration that a running
    /// server applied a moment ago may still be reported as pending.
    /// - Throws: `.filesystem` when the file cannot be opened, `.newerSchema` or `.migration` for the
    ///   same mismatches opening the store would report.
    public static func inspect(path: String) throws(StoreError) -> DatabaseInspection {
        guard var components = URLComponents(string: "file:") else {
            throw StoreError(.filesystem, "cannot build a SQLite URI for \(path)")
        }
        components.path = path
        components.queryItems = [URLQueryItem(name: "immutable", value: "1")]
        let uri = components.string ?? "file:" + path
        var connection: OpaquePointer?
        let status = sqlite3_open_v2(uri, &connection, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nil)
        defer { sqlite3_close_v2(connection) }
        guard status == SQLITE_OK, let connection else {
            throw StoreError(
                .filesystem,
                "cannot open SQLite database \(path) to read it: \(String(cString: sqlite3_errstr(status))); "
                    + "check that the file is readable",
                sqliteCode: status
            )
        }

        let names = try tableNames(connection, path: path)
        let recorded = names.contains("schema_migrations") ? try recordedMigrations(connection, path: path) : []
        let known = Dictionary(uniqueKeysWithValues: embeddedMigrations.map { ($0.id, $0.name) })
        for (id, name) in recorded where known[id] != name {
            throw StoreError(
                known[id] == nil ? .newerSchema : .migration,
                "database \(path) records migration \(id) (\(name)), which this binary "
                    + (known[id] == nil ? "does not know: a newer headscale migrated it" : "calls \(known[id]!)")
                    + "; run the matching headscale or restore a backup"
            )
        }

        let adopt = recorded.isEmpty && names.contains("nodes") && names.contains("database_versions")
        let applied = Set(recorded.map(\.id)).union(adopt ? [1] : [])
        return DatabaseInspection(
            pendingMigrations: embeddedMigrations.filter { !applied.contains($0.id) }.map(\.name),
            isHeadscaleDatabase: adopt
        )
    }

    private static func tableNames(_ connection: OpaquePointer, path: String) throws(StoreError) -> Set<String> {
        Set(try rows(connection, "SELECT name FROM sqlite_master WHERE type = 'table'", path: path).map(\.1))
    }

    private static func recordedMigrations(
        _ connection: OpaquePointer,
        path: String
    ) throws(StoreError) -> [(id: Int, name: String)] {
        try rows(connection, "SELECT id, name FROM schema_migrations ORDER BY id", path: path)
            .map { (id: Int($0.0), name: $0.1) }
    }

    /// Runs `sql` and returns each row's first column as an integer and its last as text.
    private static func rows(
        _ connection: OpaquePointer,
        _ sql: String,
        path: String
    ) throws(StoreError) -> [(Int64, String)] {
        var statement: OpaquePointer?
        defer { sqlite3_finalize(statement) }
        guard sqlite3_prepare_v2(connection, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw StoreError(
                .sqlite,
                "cannot read \(path): \(String(cString: sqlite3_errmsg(connection))); is it a SQLite database?"
            )
        }
        var result: [(Int64, String)] = []
        let last = sqlite3_column_count(statement) - 1
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { return result }
            guard status == SQLITE_ROW else {
                throw StoreError(
                    .sqlite,
                    "cannot read \(path): \(String(cString: sqlite3_errmsg(connection))); is it a SQLite database?"
                )
            }
            let text = sqlite3_column_text(statement, last).map { String(cString: $0) } ?? ""
            result.append((sqlite3_column_int64(statement, 0), text))
        }
    }
}
