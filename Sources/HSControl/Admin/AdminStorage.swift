import Foundation
import HSCore

/// A user as the admin API returns it.
struct AdminUser: Sendable {
    var id: UInt64
    var name: String
    var displayName: String
    var email: String
    var profilePicURL: String
    var provider: String
    var providerID: String
    var createdAt: Date
}

/// A pre-auth key as the admin API returns it. `displayKey` is the masked form except right after
/// creation, when it is the whole secret.
struct AdminPreAuthKey: Sendable {
    var id: UInt64
    var displayKey: String
    var userID: UInt64?
    var reusable: Bool
    var ephemeral: Bool
    var used: Bool
    var expiration: Date?
    var createdAt: Date
    var tags: [String]
}

/// An API key as the admin API lists it: never the secret, only the lookup prefix.
struct AdminAPIKey: Sendable {
    var id: UInt64
    /// `hskey-api-<prefix>-***`, or `<prefix>***` for a key of the older 7-character layout.
    var displayPrefix: String
    /// The bare lookup prefix stored in the database.
    var prefix: String
    var expiration: Date?
    var lastSeen: Date?
    var createdAt: Date
}

/// The stored policy text and when it was last written.
struct AdminPolicy: Sendable {
    var text: String
    var updatedAt: Date?
}

/// A failure of an admin request, with the HTTP status and gRPC code it maps to.
struct AdminError: Error, Sendable, CustomStringConvertible {
    enum Kind: Sendable {
        case invalidArgument, notFound, alreadyExists, failedPrecondition, unauthenticated, unimplemented, `internal`
    }

    var kind: Kind
    var message: String
    var description: String { message }

    static func invalid(_ message: String) -> AdminError { AdminError(kind: .invalidArgument, message: message) }
    static func notFound(_ message: String) -> AdminError { AdminError(kind: .notFound, message: message) }

    /// The HTTP status grpc-gateway used for this kind.
    var httpStatus: Int {
        switch kind {
        case .invalidArgument: 400
        case .notFound: 404
        case .alreadyExists: 409
        case .failedPrecondition: 400
        case .unauthenticated: 401
        case .unimplemented: 501
        case .internal: 500
        }
    }

    /// The gRPC status code that goes in the error body's `code`.
    var grpcCode: Int {
        switch kind {
        case .invalidArgument: 3
        case .notFound: 5
        case .alreadyExists: 6
        case .failedPrecondition: 9
        case .unauthenticated: 16
        case .unimplemented: 12
        case .internal: 13
        }
    }
}

/// What the admin API needs from persistent storage. Methods throw ``AdminError`` for failures
/// the caller caused and any other error for server faults.
protocol AdminStorage: Sendable {
    func users(id: UInt64?, name: String?, email: String?) throws -> [AdminUser]
    func createUser(name: String, displayName: String, email: String, pictureURL: String) throws -> AdminUser
    func renameUser(id: UInt64, to newName: String) throws -> AdminUser
    func deleteUser(id: UInt64) throws

    func createPreAuthKey(
        userID: UInt64?,
        reusable: Bool,
        ephemeral: Bool,
        expiration: Date?,
        tags: [String]
    ) throws -> AdminPreAuthKey
    func preAuthKeys(userID: UInt64?) throws -> [AdminPreAuthKey]
    func expirePreAuthKey(id: UInt64) throws
    func deletePreAuthKey(id: UInt64) throws

    func renameNode(id: UInt64, to givenName: String) throws
    func expireNode(id: UInt64, at date: Date) throws

    /// Creates an API key and returns it with its full text, which is shown only this once.
    func createAPIKey(expiration: Date?) throws -> (AdminAPIKey, secret: String)
    func apiKeys() throws -> [AdminAPIKey]
    /// Sets the key's expiration to `now`; throws not found for an unknown id.
    func expireAPIKey(id: UInt64, now: Date) throws
    func deleteAPIKey(id: UInt64) throws

    /// Returns the current policy text, or nil when none was stored.
    func policy() throws -> AdminPolicy?
    func setPolicy(_ text: String, now: Date) throws -> AdminPolicy

    /// Stores the addresses each node should have under the configured prefixes (a missing family
    /// gets a free address, an address outside its prefix is dropped) and returns the changed nodes.
    func backfillAddresses() throws -> [(id: UInt64, ipv4: String?, ipv6: String?)]

    /// True when `key` is an unexpired API key.
    func isValidAPIKey(_ key: String, now: Date) -> Bool

    /// True when the database answers a trivial query.
    func isReachable() -> Bool
}
