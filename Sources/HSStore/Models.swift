import Foundation

/// A user row: owns nodes and pre-auth keys.
public struct User: Sendable, Equatable, Identifiable {
    public var id: UInt64
    /// The login name: unique among local users (those without a provider identifier).
    public var name: String
    /// Free-form display name; empty when unset.
    public var displayName: String
    /// Empty when unset.
    public var email: String
    /// The OIDC issuer and subject for users created by an identity provider; nil for local users.
    public var providerIdentifier: String?
    /// `oidc` for provider users; empty for local users.
    public var provider: String
    public var profilePictureURL: String
    public var createdAt: Date?
    public var updatedAt: Date?
}

/// A pre-auth key row. The secret part of the key is never stored, only its bcrypt hash.
public struct PreAuthKey: Sendable, Equatable, Identifiable {
    public var id: UInt64
    /// The 12-character lookup prefix of an `hskey-auth-` key; nil for a legacy plaintext key.
    public var prefix: String?
    /// The owning user; nil for a key that only carries tags.
    public var userID: UInt64?
    /// Whether the key may register any number of nodes; otherwise it is used up by the first one.
    public var reusable: Bool
    /// Whether nodes registered with it are deleted after they stay offline for a while.
    public var ephemeral: Bool
    /// Whether a single-use key has registered its node.
    public var used: Bool
    /// Tags (`tag:…`, sorted, unique) given to nodes registered with this key; empty for user-owned keys.
    public var tags: [String]
    /// When the key stops working; nil means never.
    public var expiration: Date?
    public var createdAt: Date?
    /// A form safe to show in listings: `hskey-auth-<prefix>-***`, or the first 8 characters of a legacy key
    /// followed by `***`.
    public var displayKey: String

    /// Whether the key's expiration is at or before `now`.
    public func isExpired(at now: Date) -> Bool {
        guard let expiration else { return false }
        return expiration <= now
    }
}

/// An API key row, used by the admin API; as with pre-auth keys only a bcrypt hash of the secret is stored.
public struct APIKey: Sendable, Equatable, Identifiable {
    public var id: UInt64
    /// The 12-character lookup prefix (7 characters for keys from Headscale before 0.28).
    public var prefix: String
    public var expiration: Date?
    public var lastSeen: Date?
    public var createdAt: Date?
    /// `hskey-api-<prefix>-***`, safe to show.
    public var displayKey: String { "hskey-api-\(prefix)-***" }

    /// Whether the key's expiration is at or before `now`.
    public func isExpired(at now: Date) -> Bool {
        guard let expiration else { return false }
        return expiration <= now
    }
}

/// A stored policy document (HuJSON text) for `policy.mode: database`.
public struct StoredPolicy: Sendable, Equatable {
    public var id: UInt64
    public var data: String
    public var updatedAt: Date?
}
