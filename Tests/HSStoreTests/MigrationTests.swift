import Foundation
import Testing

@testable import HSStore

@Suite struct MigrationTests {
    @Test func emptyDatabaseGetsEveryMigration() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        #expect(try store.appliedMigrations() == embeddedMigrations.map(\.name))
        #expect(try store.appliedMigrations().first == "0001_initial")
    }

    @Test func reopeningAppliesNothingTwice() throws {
        let folder = TemporaryFolder()
        let user = try folder.store().createUser(name: "alice")
        let reopened = try folder.store()
        #expect(try reopened.appliedMigrations() == embeddedMigrations.map(\.name))
        #expect(try reopened.user(id: user.id)?.name == "alice")
    }

    @Test func upgradeFromFirstMigrationKeepsRows() throws {
        #expect(embeddedMigrations.count >= 2)
        let folder = TemporaryFolder()
        let old = try Store(path: folder.file("db.sqlite"), bcryptCost: 4, migrateUpTo: 1)
        #expect(try old.appliedMigrations() == ["0001_initial"])
        let user = try old.createUser(name: "bob")
        let upgraded = try folder.store()
        #expect(try upgraded.appliedMigrations() == embeddedMigrations.map(\.name))
        #expect(try upgraded.user(name: "bob")?.id == user.id)
        let indexes = try upgraded.withDatabase { (database) throws(StoreError) in
            try database.query("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'idx_nodes_ipv4'") {
                $0.string(0)
            }
        }
        #expect(indexes == ["idx_nodes_ipv4"])
    }

    @Test func newerDatabaseIsRejected() throws {
        let folder = TemporaryFolder()
        let path = folder.file("db.sqlite")
        do {
            let database = try Database(path: path)
            try Migrator.migrate(database)
            try database.run(
                "INSERT INTO schema_migrations (id, name, applied_at) "
                    + "VALUES (999, '0999_from_the_future', '2030-01-01')"
            )
        }
        let error = #expect(throws: StoreError.self) { try Store(path: path, bcryptCost: 4) }
        #expect(error?.code == .newerSchema)
        #expect(error?.message.contains("0999_from_the_future") == true)
        #expect(error?.message.contains("newer headscale") == true)
    }

    @Test func renamedMigrationIsRejected() throws {
        let folder = TemporaryFolder()
        let path = folder.file("db.sqlite")
        do {
            let database = try Database(path: path)
            try Migrator.migrate(database)
            try database.run("UPDATE schema_migrations SET name = '0001_other' WHERE id = 1")
        }
        let error = #expect(throws: StoreError.self) { try Store(path: path, bcryptCost: 4) }
        #expect(error?.code == .migration)
    }

    @Test func failingMigrationRollsBack() throws {
        let folder = TemporaryFolder()
        let database = try Database(path: folder.file("db.sqlite"))
        let broken = [
            EmbeddedMigration(id: 1, name: "0001_ok", sql: "CREATE TABLE a (x integer)"),
            EmbeddedMigration(id: 2, name: "0002_broken", sql: "CREATE TABLE b (x integer); SELECT * FROM missing"),
        ]
        let error = #expect(throws: StoreError.self) { try Migrator.migrate(database, migrations: broken) }
        #expect(error?.code == .migration)
        #expect(error?.message.contains("0002_broken") == true)
        #expect(try Migrator.recorded(database).map(\.name) == ["0001_ok"])
        #expect(try Migrator.tableExists(database, "a"))
        #expect(try !Migrator.tableExists(database, "b"))
    }

    @Test func headscaleDatabaseIsAdopted() throws {
        let folder = TemporaryFolder()
        let path = folder.file("db.sqlite")
        do {
            let database = try Database(path: path)
            try database.execute(embeddedMigrations[0].sql)
            try database.execute("CREATE TABLE migrations (id text PRIMARY KEY)")
            try database.execute("CREATE TABLE database_versions (id integer PRIMARY KEY, version text NOT NULL)")
            try database.execute(
                "INSERT INTO users (name, display_name, email, provider, profile_pic_url, created_at) "
                    + "VALUES ('carol', '', '', '', '', '2026-09-23 15:28:36.088806516+00:00')"
            )
        }
        let store = try folder.store()
        #expect(try store.appliedMigrations() == embeddedMigrations.map(\.name))
        #expect(try store.user(name: "carol") != nil)
    }

    @Test func walModeIsOn() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let settings = try store.withDatabase { (database) throws(StoreError) in
            [
                try database.queryOne("PRAGMA journal_mode") { $0.string(0) } ?? nil,
                try database.queryOne("PRAGMA foreign_keys") { $0.string(0) } ?? nil,
                try database.queryOne("PRAGMA busy_timeout") { $0.string(0) } ?? nil,
                try database.queryOne("PRAGMA synchronous") { $0.string(0) } ?? nil,
            ]
        }
        #expect(settings == ["wal", "1", "5000", "1"])
    }

    @Test func newFilesAreOwnerOnly() throws {
        let folder = TemporaryFolder()
        let path = folder.file("state/nested/db.sqlite")
        _ = try Store(path: path, bcryptCost: 4)
        let fileMode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        let folderMode =
            try FileManager.default.attributesOfItem(atPath: folder.file("state"))[.posixPermissions] as? Int
        let nestedMode =
            try FileManager.default.attributesOfItem(atPath: folder.file("state/nested"))[.posixPermissions]
            as? Int
        #expect(fileMode == 0o600)
        #expect(folderMode == 0o700)
        #expect(nestedMode == 0o700)
    }

    @Test func pathUnderFileIsRejected() throws {
        let folder = TemporaryFolder()
        _ = FileManager.default.createFile(atPath: folder.file("plain"), contents: Data())
        let error = #expect(throws: StoreError.self) { try Store(path: folder.file("plain/db.sqlite"), bcryptCost: 4) }
        #expect(error?.code == .filesystem)
    }
}
