import Foundation
import HSCore
import HSCrypto
import Synchronization

/// A browser's trip to the provider for one pending login, keyed by its `state`.
struct OIDCFlow: Sendable {
    let authID: AuthRequestID
    let nonce: String
    /// The PKCE code verifier, when PKCE is on.
    let verifier: String?
    let createdAt: ContinuousClock.Instant
}

/// A login the provider vouched for, waiting for the user to confirm the machine.
struct OIDCConfirmation: Sendable {
    let authID: AuthRequestID
    let userID: UInt64
    let expiry: Date?
    let createdAt: ContinuousClock.Instant
}

/// The bounded, expiring state of OIDC logins in progress: at most ``capacity`` of each kind,
/// each valid for ``lifetime``. When full, the oldest entry goes first. Thread-safe.
final class OIDCLogins: Sendable {
    static let capacity = 1024
    static let lifetime: Duration = .seconds(600)
    private let flows = Mutex<[String: OIDCFlow]>([:])
    private let confirmations = Mutex<[String: OIDCConfirmation]>([:])

    /// Records a new flow and returns its `state`.
    func begin(_ flow: OIDCFlow) -> String {
        let state = Self.token()
        flows.withLock { Self.insert(flow, at: state, into: &$0, createdAt: \.createdAt) }
        return state
    }

    /// Removes and returns the flow for `state`, unless it has expired.
    func finish(state: String) -> OIDCFlow? {
        flows.withLock { $0.removeValue(forKey: state) }.flatMap { Self.isFresh($0.createdAt) ? $0 : nil }
    }

    /// Records a confirmation and returns the token its form must send back.
    func awaitConfirmation(_ confirmation: OIDCConfirmation) -> String {
        let token = Self.token()
        confirmations.withLock { Self.insert(confirmation, at: token, into: &$0, createdAt: \.createdAt) }
        return token
    }

    /// Removes and returns the confirmation for `token`, unless it has expired.
    func confirm(token: String) -> OIDCConfirmation? {
        confirmations.withLock { $0.removeValue(forKey: token) }.flatMap { Self.isFresh($0.createdAt) ? $0 : nil }
    }

    /// 32 random bytes as base64url: state, nonce, PKCE verifier and confirmation tokens.
    static func token() -> String { Base64URL.encode(SecureRandom.bytes(32)) }

    private static func isFresh(_ createdAt: ContinuousClock.Instant) -> Bool {
        ContinuousClock.now - createdAt < lifetime
    }

    private static func insert<Entry>(
        _ entry: Entry,
        at key: String,
        into entries: inout [String: Entry],
        createdAt: KeyPath<Entry, ContinuousClock.Instant>
    ) {
        entries = entries.filter { isFresh($0.value[keyPath: createdAt]) }
        if entries.count >= capacity,
            let oldest = entries.min(by: { $0.value[keyPath: createdAt] < $1.value[keyPath: createdAt] })
        {
            entries.removeValue(forKey: oldest.key)
        }
        entries[key] = entry
    }
}
