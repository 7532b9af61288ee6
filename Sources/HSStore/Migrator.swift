import Foundation

/// One numbered SQL migration compiled into the binary from `migrations/NNNN_name.sql`.
struct EmbeddedMigration: Sendable {
    /// The number from the file name; ids run 1, 2, 3, … without gaps.
    let id: Int
    /// The file name without `.sql`, such as `0001_initial`.
    let name: String
    let sql: String
}

/// Brings a database up to this binary's schema by applying the embedded migrations in order.
///
/// Each migration runs in its own IMMEDIATE transaction together with its row in `schema_migrations`
/// (id, name, applied_at), so a crash leaves it either fully applied or not at all, and a second process
/// opening the same file at the same moment skips what the first one applied.
enum Migrator {
    static let recordTableSQL = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            id integer PRIMARY KEY,
            name text NOT NULL,
            applied_at datetime NOT NULL
        )
        """

    /// Applies every migration in `migrations` with an id up to `limit` that the database has not recorded.
    ///
    /// Throws `.newerSchema` when the database records a migration id this binary does not have, and
    /// `.migration` when a recorded name differs from the embedded one or a migration fails.
    static func migrate(
        _ database: Database,
        migrations: [EmbeddedMigration] = embeddedMigrations,
        upTo limit: Int = .max,
        now: Date = Date()
    ) throws(StoreError) {
        let pending = try pendingMigrations(database, migrations: migrations, upTo: limit)
        if !pending.isEmpty, try holdsData(database) {
            try DatabaseBackup.copy(database, suffixTime: now)
        }
        try database.execute(recordTableSQL)
        try checkRecorded(database, migrations: migrations)
        try adoptHeadscaleDatabase(database, now: now)
        for migration in migrations where migration.id <= limit {
            try database.transaction { () throws(StoreError) in
                let applied = try database.queryOne(
                    "SELECT 1 FROM schema_migrations WHERE id = ?",
                    [.integer(Int64(migration.id))]
                ) { _ in true }
                guard applied == nil else { return }
                do throws(StoreError) {
                    try database.execute(migration.sql)
                } catch {
                    throw StoreError(
                        .migration,
                        "migration \(migration.name) failed on \(database.path): \(error.message); "
                            + "the database is unchanged, restore a backup if the problem persists",
                        sqliteCode: error.sqliteCode
                    )
                }
                try database.run(
                    "INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)",
                    [.integer(Int64(migration.id)), .text(migration.name), .text(SQLiteTime.format(now))]
                )
            }
        }
    }

    /// Returns the recorded migrations as (id, name) pairs in id order.
    static func recorded(_ database: Database) throws(StoreError) -> [(id: Int, name: String)] {
        try database.query("SELECT id, name FROM schema_migrations ORDER BY id") { row in
            (id: Int(row.int64(0)), name: row.string(1) ?? "")
        }
    }

    /// The migrations up to `limit` that the database has not recorded, read without changing anything.
    static func pendingMigrations(
        _ database: Database,
        migrations: [EmbeddedMigration],
        upTo limit: Int
    ) throws(StoreError) -> [EmbeddedMigration] {
        let applied = try tableExists(database, "schema_migrations") ? Set(try recorded(database).map(\.id)) : []
        return migrations.filter { $0.id <= limit && !applied.contains($0.id) }
    }

    /// Whether the database already has tables of its own, so that migrating it changes existing data.
    static func holdsData(_ database: Database) throws(StoreError) -> Bool {
        let count = try database.queryOne(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ) { $0.int64(0) }
        return (count ?? 0) > 0
    }

    private static func checkRecorded(_ database: Database, migrations: [EmbeddedMigration]) throws(StoreError) {
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.id, $0.name) })
        for record in try recorded(database) {
            guard let name = known[record.id] else {
                let newest = migrations.last?.name ?? "none"
                throw StoreError(
                    .newerSchema,
                    "database \(database.path) was migrated by a newer headscale: it records migration "
                        + "\(record.id) (\(record.name)) but this binary knows migrations up to \(newest); "
                        + "run the newer headscale or restore a backup made before the upgrade"
                )
            }
            guard name == record.name else {
                throw StoreError(
                    .migration,
                    "database \(database.path) records migration \(record.id) as \(record.name) but this binary "
                        + "calls it \(name); the database comes from a different build, restore a backup"
                )
            }
        }
    }

    /// Records migration 1 as applied, without running it, on a database that Headscale 0.29 created.
    ///
    /// Headscale 0.29 keeps its own `migrations` and `database_versions` tables and the same tables and columns
    /// as `0001_initial.sql`, so its rows carry over. An older Headscale database (no `database_versions`) is
    /// rejected, because its columns differ.
    private static func adoptHeadscaleDatabase(_ database: Database, now: Date) throws(StoreError) {
        let ourRecords = try database.queryOne("SELECT count(*) FROM schema_migrations") { $0.int64(0) } ?? 0
        guard ourRecords == 0, try tableExists(database, "nodes") else { return }
        guard try tableExists(database, "database_versions") else {
            throw StoreError(
                .migration,
                "database \(database.path) has a nodes table but no migration records; if it comes from Headscale, "
                    + "upgrade it with Headscale 0.29 first, which this server can then adopt"
            )
        }
        try database.run(
            "INSERT INTO schema_migrations (id, name, applied_at) VALUES (1, ?, ?)",
            [.text(embeddedMigrations[0].name), .text(SQLiteTime.format(now))]
        )
    }

    static func tableExists(_ database: Database, _ name: String) throws(StoreError) -> Bool {
        try database.queryOne("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [.text(name)]) { _ in
            true
        } ?? false
    }
}
