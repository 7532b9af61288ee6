import Foundation

extension Store {
    static let preAuthKeyColumns = "id, key, prefix, user_id, reusable, ephemeral, used, tags, expiration, created_at"

    /// Creates a pre-auth key and returns it with its full text, `hskey-auth-<12 chars>-<64 chars>`.
    ///
    /// The full text is returned only here: the store keeps the prefix and a bcrypt hash of the secret part.
    /// Tags are sorted and deduplicated.
    ///
    /// - Parameters:
    ///   - userID: the owner; may be nil only when `tags` is not empty.
    ///   - expiration: when the key stops working; nil means never.
    /// - Throws: `.invalidArgument` for a key with neither user nor tags or a tag without `tag:`, `.notFound` for
    ///   an unknown user.
    public func createPreAuthKey(
        userID: UInt64?,
        reusable: Bool,
        ephemeral: Bool,
        expiration: Date?,
        tags: [String]
    ) throws(StoreError) -> (PreAuthKey, secret: String) {
        let tags = try Store.normalizedTags(tags)
        guard userID != nil || !tags.isEmpty else {
            throw StoreError(.invalidArgument, "a pre-auth key needs a user or at least one tag; pass --user or --tags")
        }
        let secret = KeySecret.randomString(count: KeySecret.secretLength)
        let hash = BCrypt.hash(password: Array(secret.utf8), cost: bcryptCost)
        let now = Date()
        // A prefix collision (1 in 2^72 per pair) only costs a retry.
        for _ in 0..<3 {
            let prefix = KeySecret.randomString(count: KeySecret.prefixLength)
            do {
                let key = try transaction { (database) throws(StoreError) -> PreAuthKey in
                    if let userID { _ = try Store.requireUser(database, id: userID) }
                    try database.run(
                        """
                        INSERT INTO pre_auth_keys
                            (key, prefix, hash, user_id, reusable, ephemeral, used, tags, expiration, created_at)
                        VALUES ('', ?, ?, ?, ?, ?, 0, ?, ?, ?)
                        """,
                        [
                            .text(prefix), .blob(Array(hash.utf8)), .integer(userID), .bool(reusable), .bool(ephemeral),
                            RowDecoding.json(tags), .text(expiration.map(SQLiteTime.format)),
                            .text(SQLiteTime.format(now)),
                        ]
                    )
                    return try Store.requirePreAuthKey(database, id: UInt64(database.lastInsertRowID))
                }
                return (key, secret: KeySecret.preAuthTag + prefix + "-" + secret)
            } catch let error where error.code == .conflict {
                continue
            }
        }
        throw StoreError(.sqlite, "could not store a new pre-auth key: three random prefixes collided; try again")
    }

    /// Returns the pre-auth keys of one user, or all keys when `userID` is nil, ordered by id.
    public func preAuthKeys(userID: UInt64?) throws(StoreError) -> [PreAuthKey] {
        try withDatabase { (database) throws(StoreError) in
            if let userID {
                return try database.query(
                    "SELECT \(Store.preAuthKeyColumns) FROM pre_auth_keys WHERE user_id = ? ORDER BY id",
                    [.integer(userID)],
                    row: Store.decodePreAuthKey
                )
            }
            return try database.query(
                "SELECT \(Store.preAuthKeyColumns) FROM pre_auth_keys ORDER BY id",
                row: Store.decodePreAuthKey
            )
        }
    }

    /// Returns the pre-auth key with `id`, or nil.
    public func preAuthKey(id: UInt64) throws(StoreError) -> PreAuthKey? {
        try withDatabase { (database) throws(StoreError) in try Store.findPreAuthKey(database, id: id) }
    }

    /// Sets the key's expiration to `now`, so it stops working.
    public func expirePreAuthKey(id: UInt64, now: Date = Date()) throws(StoreError) {
        try transaction { (database) throws(StoreError) in
            _ = try Store.requirePreAuthKey(database, id: id)
            try database.run(
                "UPDATE pre_auth_keys SET expiration = ? WHERE id = ?",
                [.text(SQLiteTime.format(now)), .integer(id)]
            )
        }
    }

    /// Deletes a pre-auth key; nodes it registered stay and lose the reference.
    public func deletePreAuthKey(id: UInt64) throws(StoreError) {
        try transaction { (database) throws(StoreError) in
            _ = try Store.requirePreAuthKey(database, id: id)
            try database.run("UPDATE nodes SET auth_key_id = NULL WHERE auth_key_id = ?", [.integer(id)])
            try database.run("DELETE FROM pre_auth_keys WHERE id = ?", [.integer(id)])
        }
    }

    static func normalizedTags(_ tags: [String]) throws(StoreError) -> [String] {
        for tag in tags where !tag.hasPrefix("tag:") || tag.count == 4 {
            throw StoreError(.invalidArgument, "invalid tag \"\(tag.prefix(80))\": tags look like tag:server")
        }
        return Array(Set(tags)).sorted()
    }

    static func findPreAuthKey(_ database: Database, id: UInt64) throws(StoreError) -> PreAuthKey? {
        try database.queryOne(
            "SELECT \(preAuthKeyColumns) FROM pre_auth_keys WHERE id = ?",
            [.integer(id)],
            row: decodePreAuthKey
        )
    }

    static func requirePreAuthKey(_ database: Database, id: UInt64) throws(StoreError) -> PreAuthKey {
        guard let key = try findPreAuthKey(database, id: id) else {
            throw StoreError(.notFound, "pre-auth key \(id) not found; list pre-auth keys to see the valid ids")
        }
        return key
    }

    static func decodePreAuthKey(_ row: Statement) throws(StoreError) -> PreAuthKey {
        let legacy = row.string(1) ?? ""
        let prefix = row.string(2).flatMap { $0.isEmpty ? nil : $0 }
        let display = prefix.map { KeySecret.preAuthTag + $0 + "-***" } ?? String(legacy.prefix(8)) + "***"
        return PreAuthKey(
            id: UInt64(bitPattern: row.int64(0)),
            prefix: prefix,
            userID: row.optionalID(3),
            reusable: row.bool(4),
            ephemeral: row.bool(5),
            used: row.bool(6),
            tags: try RowDecoding.strings(row, 7, table: "pre_auth_keys"),
            expiration: try RowDecoding.date(row, 8, table: "pre_auth_keys", keepZeroTime: true),
            createdAt: try RowDecoding.date(row, 9, table: "pre_auth_keys"),
            displayKey: display
        )
    }
}
