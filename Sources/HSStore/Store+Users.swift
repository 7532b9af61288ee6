import Foundation

extension Store {
    static let userColumns =
        "id, name, display_name, email, provider_identifier, provider, profile_pic_url, created_at, updated_at"

    /// Creates a local user (no identity provider).
    ///
    /// - Throws: `.invalidArgument` for an empty name or one with spaces or control characters, `.conflict` when a
    ///   local user already has the name.
    public func createUser(name: String, displayName: String = "", email: String = "") throws(StoreError) -> User {
        try Store.validateUserName(name)
        let now = Date()
        return try transaction { (database) throws(StoreError) -> User in
            if try Store.findUser(database, name: name) != nil {
                throw StoreError(.conflict, "user \"\(name)\" already exists; choose another name")
            }
            try database.run(
                """
                INSERT INTO users (name, display_name, email, provider, profile_pic_url, created_at, updated_at)
                VALUES (?, ?, ?, '', '', ?, ?)
                """,
                [
                    .text(name), .text(displayName), .text(email), .text(SQLiteTime.format(now)),
                    .text(SQLiteTime.format(now)),
                ]
            )
            return try Store.requireUser(database, id: UInt64(database.lastInsertRowID))
        }
    }

    /// Returns every user, ordered by id.
    public func users() throws(StoreError) -> [User] {
        try withDatabase { (database) throws(StoreError) in
            try database.query(
                "SELECT \(Store.userColumns) FROM users WHERE deleted_at IS NULL ORDER BY id",
                row: Store.decodeUser
            )
        }
    }

    /// Returns the user with `id`, or nil.
    public func user(id: UInt64) throws(StoreError) -> User? {
        try withDatabase { (database) throws(StoreError) in try Store.findUser(database, id: id) }
    }

    /// Returns the local user (no identity provider) called `name`, or nil.
    public func user(name: String) throws(StoreError) -> User? {
        try withDatabase { (database) throws(StoreError) in try Store.findUser(database, name: name) }
    }

    /// Renames a user and returns the updated row.
    ///
    /// - Throws: `.notFound`, `.invalidArgument` for a bad name, `.conflict` when the name is taken.
    @discardableResult
    public func renameUser(id: UInt64, newName: String) throws(StoreError) -> User {
        try Store.validateUserName(newName)
        return try transaction { (database) throws(StoreError) -> User in
            let user = try Store.requireUser(database, id: id)
            if let other = try Store.findUser(database, name: newName), other.id != id {
                throw StoreError(.conflict, "user \"\(newName)\" already exists; choose another name")
            }
            try database.run(
                "UPDATE users SET name = ?, updated_at = ? WHERE id = ?",
                [.text(newName), .text(SQLiteTime.format(Date())), .integer(user.id)]
            )
            return try Store.requireUser(database, id: id)
        }
    }

    /// Deletes a user and its pre-auth keys.
    ///
    /// - Throws: `.notFound`, or `.conflict` while the user still owns nodes (tagged nodes do not count).
    public func deleteUser(id: UInt64) throws(StoreError) {
        try transaction { (database) throws(StoreError) in
            let user = try Store.requireUser(database, id: id)
            let nodeCount =
                try database.queryOne("SELECT count(*) FROM nodes WHERE user_id = ?", [.integer(id)]) {
                    $0.int64(0)
                } ?? 0
            guard nodeCount == 0 else {
                throw StoreError(
                    .conflict,
                    "user \"\(user.name)\" still owns \(nodeCount) node(s); delete or move them first"
                )
            }
            // Nodes registered with the user's keys (tagged ones) keep working but lose the reference.
            try database.run(
                """
                UPDATE nodes SET auth_key_id = NULL
                WHERE auth_key_id IN (SELECT id FROM pre_auth_keys WHERE user_id = ?)
                """,
                [.integer(id)]
            )
            try database.run("DELETE FROM pre_auth_keys WHERE user_id = ?", [.integer(id)])
            try database.run("DELETE FROM users WHERE id = ?", [.integer(id)])
        }
    }

    static func validateUserName(_ name: String) throws(StoreError) {
        guard !name.isEmpty, name.utf8.count <= 255,
            !name.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7f })
        else {
            throw StoreError(
                .invalidArgument,
                "invalid user name \"\(name.prefix(80))\": use 1 to 255 bytes without spaces or control characters"
            )
        }
    }

    static func findUser(_ database: Database, id: UInt64) throws(StoreError) -> User? {
        try database.queryOne(
            "SELECT \(userColumns) FROM users WHERE id = ? AND deleted_at IS NULL",
            [.integer(id)],
            row: decodeUser
        )
    }

    static func findUser(_ database: Database, name: String) throws(StoreError) -> User? {
        try database.queryOne(
            "SELECT \(userColumns) FROM users WHERE name = ? AND provider_identifier IS NULL AND deleted_at IS NULL",
            [.text(name)],
            row: decodeUser
        )
    }

    static func requireUser(_ database: Database, id: UInt64) throws(StoreError) -> User {
        guard let user = try findUser(database, id: id) else {
            throw StoreError(.notFound, "user \(id) not found; list users to see the valid ids")
        }
        return user
    }

    static func decodeUser(_ row: Statement) throws(StoreError) -> User {
        User(
            id: UInt64(bitPattern: row.int64(0)),
            name: row.string(1) ?? "",
            displayName: row.string(2) ?? "",
            email: row.string(3) ?? "",
            providerIdentifier: row.string(4),
            provider: row.string(5) ?? "",
            profilePictureURL: row.string(6) ?? "",
            createdAt: try RowDecoding.date(row, 7, table: "users"),
            updatedAt: try RowDecoding.date(row, 8, table: "users")
        )
    }
}
