import Foundation
import HSCore

/// A pre-auth key that registration just consumed.
struct ConsumedPreAuthKey: Sendable {
    var id: UInt64
    var userID: UInt64?
    var isEphemeral: Bool
    var tags: [String]
}

/// A failure the client should show its user, sent back in `RegisterResponse.Error`.
struct RegistrationError: Error, Sendable, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// What the control plane needs from persistent storage.
///
/// Calls may block on disk; the control plane makes them outside its lock.
protocol ControlStorage: Sendable {
    func loadUsers() throws -> [ControlUser]
    func loadNodes() throws -> [ControlNode]

    /// Checks the key and, for a single-use key, marks it used, all in one transaction.
    /// - Throws: ``RegistrationError`` for an unknown, expired or used key.
    func consumePreAuthKey(_ secret: String, now: Date) throws -> ConsumedPreAuthKey

    /// Stores a new node, choosing its id and free addresses in the configured prefixes.
    func insertNode(_ node: ControlNode) throws -> ControlNode

    /// Writes back a node's changed fields.
    func saveNode(_ node: ControlNode) throws

    func deleteNode(id: UInt64) throws
}
