import Foundation

/// What an identity provider says about a user at login.
public struct ProviderUserClaims: Sendable, Equatable {
    /// The issuer URL and the subject joined by `/`: the provider's stable id for the user.
    public var providerIdentifier: String
    public var name: String
    public var displayName: String
    public var email: String
    public var pictureURL: String

    public init(providerIdentifier: String, name: String, displayName: String, email: String, pictureURL: String) {
        self.providerIdentifier = providerIdentifier
        self.name = name
        self.displayName = displayName
        self.email = email
        self.pictureURL = pictureURL
    }
}

extension Store {
    /// Finds the user with the claims' provider identifier and refreshes its name, display name,
    /// email and picture, or creates it with provider `oidc`.
    ///
    /// - Throws: `.invalidArgument` for a name with spaces or control characters.
    public func upsertProviderUser(_ claims: ProviderUserClaims) throws(StoreError) -> User {
        try Store.validateUserName(claims.name)
        let now = SQLiteTime.format(Date())
        return try transaction { (database) throws(StoreError) -> User in
            let existing = try database.queryOne(
                "SELECT \(Store.userColumns) FROM users WHERE provider_identifier = ? AND deleted_at IS NULL",
                [.text(claims.providerIdentifier)],
                row: Store.decodeUser
            )
            let values: [SQLValue] = [
                .text(claims.name), .text(claims.displayName), .text(claims.email), .text(claims.pictureURL),
                .text(now),
            ]
            if let existing {
                try database.run(
                    "UPDATE users SET name = ?, display_name = ?, email = ?, profile_pic_url = ?, updated_at = ? WHERE id = ?",
                    values + [.integer(existing.id)]
                )
                return try Store.requireUser(database, id: existing.id)
            }
            try database.run(
                """
                INSERT INTO users (name, display_name, email, profile_pic_url, updated_at, created_at, provider,
                    provider_identifier)
                VALUES (?, ?, ?, ?, ?, ?, 'oidc', ?)
                """,
                values + [.text(now), .text(claims.providerIdentifier)]
            )
            return try Store.requireUser(database, id: UInt64(database.lastInsertRowID))
        }
    }
}
