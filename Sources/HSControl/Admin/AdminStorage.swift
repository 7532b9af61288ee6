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

    /// True when `key` is an unexpired API key.
    func isValidAPIKey(_ key: String, now: Date) -> Bool

    /// True when the database answers a trivial query.
    func isReachable() -> Bool
}
