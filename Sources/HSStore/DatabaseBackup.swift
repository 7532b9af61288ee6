import CSQLite
import Foundation

/// Copies a live database next to itself with SQLite's online backup API, before a migration changes it.
///
/// The copy is `<db>.backup-<UTC time>` (such as `db.sqlite.backup-20261204T180501Z`), mode 0600, a complete
/// database that SQLite opens as is. When a copy with that name exists, `-2`, `-3`, … is appended.
enum DatabaseBackup {
    /// Copies `database` and returns the path of the copy.
    @discardableResult
    static func copy(_ database: Database, suffixTime: Date) throws(StoreError) -> String {
        let path = try reservePath(for: database.path, time: suffixTime)
        var target: OpaquePointer?
        let status = sqlite3_open_v2(path, &target, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
        defer { sqlite3_close_v2(target) }
        guard status == SQLITE_OK, let target else {
            throw failure(path, detail: String(cString: sqlite3_errstr(status)), code: status)
        }
        try database.backup(into: target, path: path)
        return path
    }

    /// Creates the empty backup file with owner-only permissions and returns its path.
    private static func reservePath(for databasePath: String, time: Date) throws(StoreError) -> String {
        let base = databasePath + ".backup-" + stamp(time)
        for attempt in 1...100 {
            let candidate = attempt == 1 ? base : base + "-\(attempt)"
            let descriptor = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if descriptor >= 0 {
                close(descriptor)
                return candidate
            }
            guard errno == EEXIST else {
                throw failure(candidate, detail: String(cString: strerror(errno)), code: nil)
            }
        }
        throw failure(base, detail: "100 backups with this time already exist", code: nil)
    }

    /// `yyyyMMddTHHmmssZ` in UTC.
    static func stamp(_ time: Date) -> String {
        var seconds = time_t(time.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d%02d%02dT%02d%02d%02dZ",
            Int(parts.tm_year) + 1900,
            Int(parts.tm_mon) + 1,
            Int(parts.tm_mday),
            Int(parts.tm_hour),
            Int(parts.tm_min),
            Int(parts.tm_sec)
        )
    }

    static func failure(_ path: String, detail: String, code: Int32?) -> StoreError {
        StoreError(
            .filesystem,
            "cannot write the pre-migration backup \(path): \(detail); free disk space or fix the folder's "
                + "permissions, then start again (the database was not migrated)",
            sqliteCode: code
        )
    }
}

extension Database {
    /// Copies every page of this connection's main database into `target` in one step.
    func backup(into target: OpaquePointer, path: String) throws(StoreError) {
        guard let backup = sqlite3_backup_init(target, "main", handle, "main") else {
            throw DatabaseBackup.failure(path, detail: String(cString: sqlite3_errmsg(target)), code: nil)
        }
        let stepStatus = sqlite3_backup_step(backup, -1)
        let finishStatus = sqlite3_backup_finish(backup)
        guard stepStatus == SQLITE_DONE, finishStatus == SQLITE_OK else {
            let status = stepStatus == SQLITE_DONE ? finishStatus : stepStatus
            throw DatabaseBackup.failure(path, detail: String(cString: sqlite3_errstr(status)), code: status)
        }
    }
}
