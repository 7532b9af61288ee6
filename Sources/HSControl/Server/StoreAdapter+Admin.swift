import Foundation
import HSCore
import HSStore

extension StoreAdapter {
    // MARK: AdminStorage

    func users(id: UInt64?, name: String?, email: String?) throws -> [AdminUser] {
        try mapped {
            try store.users()
                .filter { user in
                    (id == nil || user.id == id) && (name.map { $0.isEmpty || user.name == $0 } ?? true)
                        && (email.map { $0.isEmpty || user.email == $0 } ?? true)
                }
                .map(Self.adminUser)
        }
    }

    func createUser(name: String, displayName: String, email: String, pictureURL: String) throws -> AdminUser {
        try mapped { Self.adminUser(try store.createUser(name: name, displayName: displayName, email: email)) }
    }

    func renameUser(id: UInt64, to newName: String) throws -> AdminUser {
        try mapped { Self.adminUser(try store.renameUser(id: id, newName: newName)) }
    }

    func deleteUser(id: UInt64) throws {
        try mapped { try store.deleteUser(id: id) }
    }

    func createPreAuthKey(
        userID: UInt64?,
        reusable: Bool,
        ephemeral: Bool,
        expiration: Date?,
        tags: [String]
    ) throws -> AdminPreAuthKey {
        try mapped {
            let (key, secret) = try store.createPreAuthKey(
                userID: userID,
                reusable: reusable,
                ephemeral: ephemeral,
                expiration: expiration,
                tags: tags
            )
            var admin = Self.adminKey(key)
            admin.displayKey = secret
            return admin
        }
    }

    func preAuthKeys(userID: UInt64?) throws -> [AdminPreAuthKey] {
        try mapped { try store.preAuthKeys(userID: userID).map(Self.adminKey) }
    }

    func expirePreAuthKey(id: UInt64) throws {
        try mapped { try store.expirePreAuthKey(id: id) }
    }

    func deletePreAuthKey(id: UInt64) throws {
        try mapped { try store.deletePreAuthKey(id: id) }
    }

    func renameNode(id: UInt64, to givenName: String) throws {
        try mapped { _ = try store.renameNode(id: id, givenName: givenName) }
    }

    func expireNode(id: UInt64, at date: Date) throws {
        try mapped {
            guard var node = try store.node(id: id) else { throw StoreError(.notFound, "node \(id) not found") }
            node.expiry = date
            _ = try store.updateNode(node)
        }
    }

    func createAPIKey(expiration: Date?) throws -> (AdminAPIKey, secret: String) {
        try mapped {
            let (key, secret) = try store.createAPIKey(expiration: expiration)
            return (Self.adminAPIKey(key), secret)
        }
    }

    func apiKeys() throws -> [AdminAPIKey] {
        try mapped { try store.apiKeys().map(Self.adminAPIKey) }
    }

    func expireAPIKey(id: UInt64, now: Date) throws {
        try mapped { try store.expireAPIKey(id: id, now: now) }
    }

    func deleteAPIKey(id: UInt64) throws {
        try mapped { try store.deleteAPIKey(id: id) }
    }

    func policy() throws -> AdminPolicy? {
        try mapped { try store.policy().map { AdminPolicy(text: $0.data, updatedAt: $0.updatedAt) } }
    }

    func setPolicy(_ text: String, now: Date) throws -> AdminPolicy {
        try mapped {
            let stored = try store.setPolicy(text, now: now)
            return AdminPolicy(text: stored.data, updatedAt: stored.updatedAt)
        }
    }

    func backfillAddresses() throws -> [(id: UInt64, ipv4: String?, ipv6: String?)] {
        try mapped { try store.backfillAddresses(pool: pool).map { ($0.id, $0.ipv4, $0.ipv6) } }
    }

    func isValidAPIKey(_ key: String, now: Date) -> Bool {
        (try? store.validateAPIKey(key, now: now)) != nil
    }

    func isReachable() -> Bool {
        (try? store.appliedMigrations()) != nil
    }

    /// Runs `body`, turning store errors the caller caused into ``AdminError``s.
    private func mapped<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StoreError {
            switch error.code {
            case .notFound: throw AdminError.notFound(error.message)
            case .conflict: throw AdminError(kind: .alreadyExists, message: error.message)
            case .invalidArgument: throw AdminError.invalid(error.message)
            default: throw error
            }
        }
    }

    static func adminUser(_ user: User) -> AdminUser {
        AdminUser(
            id: user.id,
            name: user.name,
            displayName: user.displayName,
            email: user.email,
            profilePicURL: user.profilePictureURL,
            provider: user.provider,
            providerID: user.providerIdentifier ?? "",
            createdAt: user.createdAt ?? Date(timeIntervalSince1970: 0)
        )
    }

    static func adminAPIKey(_ key: APIKey) -> AdminAPIKey {
        AdminAPIKey(
            id: key.id,
            displayPrefix: key.prefix.count == 7 ? key.prefix + "***" : key.displayKey,
            prefix: key.prefix,
            expiration: key.expiration,
            lastSeen: key.lastSeen,
            createdAt: key.createdAt ?? Date(timeIntervalSince1970: 0)
        )
    }

    static func adminKey(_ key: PreAuthKey) -> AdminPreAuthKey {
        AdminPreAuthKey(
            id: key.id,
            displayKey: key.displayKey,
            userID: key.userID,
            reusable: key.reusable,
            ephemeral: key.ephemeral,
            used: key.used,
            expiration: key.expiration,
            createdAt: key.createdAt ?? Date(timeIntervalSince1970: 0),
            tags: key.tags
        )
    }
}
