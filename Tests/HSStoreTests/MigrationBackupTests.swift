import Foundation
import Testing

@testable import HSStore

@Suite struct MigrationBackupTests {
    private func backups(in folder: TemporaryFolder) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("db.sqlite.backup-") }
    }

    @Test func freshDatabaseGetsNoBackup() throws {
        let folder = TemporaryFolder()
        _ = try folder.store()
        #expect(try backups(in: folder).isEmpty)
    }

    @Test func pendingMigrationBacksUpFirst() throws {
        let folder = TemporaryFolder()
        let old = try Store(path: folder.file("db.sqlite"), bcryptCost: 4, migrateUpTo: 1)
        _ = try old.createUser(name: "bob")
        _ = try folder.store()
        let names = try backups(in: folder)
        try #require(names.count == 1)
        #expect(names[0].range(of: #"^db\.sqlite\.backup-\d{8}T\d{6}Z$"#, options: .regularExpression) != nil)
        let copy = try Database(path: folder.file(names[0]))
        #expect(try Migrator.recorded(copy).map(\.name) == ["0001_initial"])
        #expect(try copy.query("SELECT name FROM users") { $0.string(0) } == ["bob"])
        let mode = try FileManager.default.attributesOfItem(atPath: folder.file(names[0]))[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func upToDateDatabaseGetsNoBackup() throws {
        let folder = TemporaryFolder()
        _ = try folder.store().createUser(name: "alice")
        _ = try folder.store()
        #expect(try backups(in: folder).isEmpty)
    }

    @Test func sameSecondBackupsGetSuffixes() throws {
        let folder = TemporaryFolder()
        let database = try Database(path: folder.file("db.sqlite"))
        try database.execute("CREATE TABLE t (x integer); INSERT INTO t VALUES (7)")
        let moment = Date(timeIntervalSince1970: 1_800_000_000)
        let first = try DatabaseBackup.copy(database, suffixTime: moment)
        let second = try DatabaseBackup.copy(database, suffixTime: moment)
        #expect(first == folder.file("db.sqlite.backup-20270115T080000Z"))
        #expect(second == first + "-2")
        #expect(try Database(path: second).query("SELECT x FROM t") { $0.int64(0) } == [7])
    }
}
