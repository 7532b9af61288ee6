import Foundation

extension Store {
    static let apiKeyColumns = "id, prefix, expiration, last_seen, created_at"

    /// Creates an API key and returns it with its full text, `hskey-api-<12 chars>-<64 chars>`, shown only once.
    public func createAPIKey(expiration: Date?) throws(StoreError) -> (APIKey, secret: String) {
        let secret = KeySecret.randomString(count: KeySecret.secretLength)
        let hash = BCrypt.hash(password: Array(secret.utf8), cost: bcryptCost)
        let prefix = KeySecret.randomString(count: KeySecret.prefixLength)
        let now = Date()
        let key = try transaction { (database) throws(StoreError) -> APIKey in
            try database.run(
                "INSERT INTO api_keys (prefix, hash, created_at, expiration) VALUES (?, ?, ?, ?)",
                [
                    .text(prefix), .blob(Array(hash.utf8)), .text(SQLiteTime.format(now)),
                    .text(expiration.map(SQLiteTime.format)),
                ]
            )
            return try Store.requireAPIKey(database, id: UInt64(database.lastInsertRowID))
        }
        return (key, secret: KeySecret.apiTag + prefix + "-" + secret)
    }

    /// Returns every API key, ordered by id.
    public func apiKeys() throws(StoreError) -> [APIKey] {
        try withDatabase { (database) throws(StoreError) in
            try database.query("SELECT \(Store.apiKeyColumns) FROM api_keys ORDER BY id", row: Store.decodeAPIKey)
        }
    }

    /// Checks an API key's full text and expiry; returns the key row.
    ///
    /// Accepts `hskey-api-<prefix>-<secret>` and the pre-0.28 `<7-char prefix>.<secret>` layout.
    /// - Throws: `.apiKeyInvalid` for a malformed, unknown, wrong or expired key.
    public func validateAPIKey(_ text: String, now: Date = Date()) throws(StoreError) -> APIKey {
        let invalid = StoreError(.apiKeyInvalid, "invalid or expired API key; create a new one with apikeys create")
        guard text.utf8.count <= 512 else { throw invalid }
        let parts: (prefix: String, secret: String)
        if let split = KeySecret.split(text, tag: KeySecret.apiTag) {
            parts = split
        } else if let dot = text.firstIndex(of: "."), text.distance(from: text.startIndex, to: dot) == 7 {
            parts = (String(text[..<dot]), String(text[text.index(after: dot)...]))
        } else {
            throw invalid
        }
        let row = try withDatabase { (database) throws(StoreError) in
            try database.queryOne("SELECT id, hash FROM api_keys WHERE prefix = ?", [.text(parts.prefix)]) { row in
                (id: UInt64(bitPattern: row.int64(0)), hash: row.blob(1) ?? [])
            }
        }
        guard let row,
            BCrypt.verify(password: Array(parts.secret.utf8), hash: String(decoding: row.hash, as: UTF8.self))
        else { throw invalid }
        let key = try withDatabase { (database) throws(StoreError) in try Store.findAPIKey(database, id: row.id) }
        guard let key, !key.isExpired(at: now) else { throw invalid }
        return key
    }

    /// Sets an API key's expiration to `now`.
    public func expireAPIKey(id: UInt64, now: Date = Date()) throws(StoreError) {
        try transaction { (database) throws(StoreError) in
            _ = try Store.requireAPIKey(database, id: id)
            try database.run(
                "UPDATE api_keys SET expiration = ? WHERE id = ?",
                [.text(SQLiteTime.format(now)), .integer(id)]
            )
        }
    }

    /// Deletes an API key.
    public func deleteAPIKey(id: UInt64) throws(StoreError) {
        try withDatabase { (database) throws(StoreError) in
            try database.run("DELETE FROM api_keys WHERE id = ?", [.integer(id)])
            guard database.changes == 1 else {
                throw StoreError(.notFound, "API key \(id) not found; list API keys to see the valid ids")
            }
        }
    }

    static func findAPIKey(_ database: Database, id: UInt64) throws(StoreError) -> APIKey? {
        try database.queryOne(
            "SELECT \(apiKeyColumns) FROM api_keys WHERE id = ?",
            [.integer(id)],
            row: decodeAPIKey
        )
    }

    static func requireAPIKey(_ database: Database, id: UInt64) throws(StoreError) -> APIKey {
        guard let key = try findAPIKey(database, id: id) else {
            throw StoreError(.notFound, "API key \(id) not found; list API keys to see the valid ids")
        }
        return key
    }

    static func decodeAPIKey(_ row: Statement) throws(StoreError) -> APIKey {
        APIKey(
            id: UInt64(bitPattern: row.int64(0)),
            prefix: row.string(1) ?? "",
            expiration: try RowDecoding.date(row, 2, table: "api_keys", keepZeroTime: true),
            lastSeen: try RowDecoding.date(row, 3, table: "api_keys"),
            createdAt: try RowDecoding.date(row, 4, table: "api_keys")
        )
    }
}
