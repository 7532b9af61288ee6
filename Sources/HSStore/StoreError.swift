/// The one error type of HSStore: a machine-readable code and a message for people.
///
/// The message names the value that failed and what to do next. It never contains a secret.
public struct StoreError: Error, Equatable, CustomStringConvertible, Sendable {
    /// What kind of failure this is, for callers that react differently to each.
    public enum Code: Equatable, Sendable {
        /// SQLite returned an error; `sqliteCode` holds its extended result code.
        case sqlite
        /// The database file or its folder could not be created or opened.
        case filesystem
        /// A migration failed to apply or the recorded migrations do not match this binary's.
        case migration
        /// The database records a migration this binary does not know: it was written by a newer version.
        case newerSchema
        /// No row has the requested id, name or key.
        case notFound
        /// The change would break a uniqueness rule or a relation, such as a duplicate user name.
        case conflict
        /// An argument is malformed, such as an empty user name or a tag without `tag:`.
        case invalidArgument
        /// A stored row cannot be decoded, such as a malformed key or timestamp.
        case corruptRow
        /// The pre-auth key is malformed, unknown, or its secret does not match.
        case preAuthKeyInvalid
        /// The pre-auth key's expiration has passed.
        case preAuthKeyExpired
        /// The single-use pre-auth key was already used.
        case preAuthKeyUsed
        /// The API key is malformed, unknown, its secret does not match, or it expired.
        case apiKeyInvalid
        /// Every address of the prefix is taken.
        case addressesExhausted
    }

    public let code: Code
    public let message: String
    /// SQLite's extended result code when `code` is `.sqlite` or `.conflict` from a constraint, otherwise nil.
    public let sqliteCode: Int32?

    public init(_ code: Code, _ message: String, sqliteCode: Int32? = nil) {
        self.code = code
        self.message = message
        self.sqliteCode = sqliteCode
    }

    public var description: String { message }
}
