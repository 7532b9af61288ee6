import Foundation

extension Store {
    /// Returns the current policy document (the newest row not deleted), or nil when none was stored.
    public func policy() throws(StoreError) -> StoredPolicy? {
        try withDatabase { (database) throws(StoreError) in
            try database.queryOne(
                "SELECT id, data, updated_at FROM policies WHERE deleted_at IS NULL ORDER BY id DESC LIMIT 1"
            ) { row throws(StoreError) in
                StoredPolicy(
                    id: UInt64(bitPattern: row.int64(0)),
                    data: row.string(1) ?? "",
                    updatedAt: try RowDecoding.date(row, 2, table: "policies")
                )
            }
        }
    }

    /// Stores `data` as the current policy. The caller validates it first; the store keeps it as text.
    @discardableResult
    public func setPolicy(_ data: String, now: Date = Date()) throws(StoreError) -> StoredPolicy {
        try transaction { (database) throws(StoreError) -> StoredPolicy in
            try database.run(
                "INSERT INTO policies (data, created_at, updated_at) VALUES (?, ?, ?)",
                [.text(data), .text(SQLiteTime.format(now)), .text(SQLiteTime.format(now))]
            )
            return StoredPolicy(id: UInt64(database.lastInsertRowID), data: data, updatedAt: now)
        }
    }
}
