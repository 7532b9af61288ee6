import Foundation
import HSCrypto
import Synchronization

extension Store {
    /// Looks up a pre-auth key by its full text without checking or changing its state.
    ///
    /// Accepts `hskey-auth-<prefix>-<secret>` (checked against the bcrypt hash) and legacy plaintext keys, which
    /// Headscale 0.28 and 0.29 still accept. Use it where an expired or used key is still acceptable, such as a
    /// node re-registering with the key that created it.
    ///
    /// - Throws: `.preAuthKeyInvalid` ("invalid pre-auth key") for malformed, unknown or wrong keys.
    public func findPreAuthKey(secret: String) throws(StoreError) -> PreAuthKey {
        let invalid = StoreError(.preAuthKeyInvalid, "invalid pre-auth key")
        guard !secret.isEmpty, secret.utf8.count <= 512 else { throw invalid }
        guard secret.hasPrefix(KeySecret.preAuthTag) else {
            let key = try withDatabase { (database) throws(StoreError) in
                try database.queryOne(
                    "SELECT \(Store.preAuthKeyColumns) FROM pre_auth_keys WHERE key = ? AND key != ''",
                    [.text(secret)],
                    row: Store.decodePreAuthKey
                )
            }
            guard let key else { throw invalid }
            return key
        }
        guard let parts = KeySecret.split(secret, tag: KeySecret.preAuthTag) else { throw invalid }
        let row = try withDatabase { (database) throws(StoreError) in
            try database.queryOne(
                "SELECT id, hash FROM pre_auth_keys WHERE prefix = ?",
                [.text(parts.prefix)]
            ) { row in (id: UInt64(bitPattern: row.int64(0)), hash: row.blob(1) ?? []) }
        }
        guard let row, isSecret(parts.secret, prefix: parts.prefix, matching: row.hash) else { throw invalid }
        guard let key = try preAuthKey(id: row.id) else { throw invalid }
        return key
    }

    /// Checks `secret` against the stored bcrypt hash, or against the digest of a secret bcrypt
    /// accepted before for the same prefix and hash.
    private func isSecret(_ secret: String, prefix: String, matching storedHash: [UInt8]) -> Bool {
        let digest = SHA256.hash(Array(secret.utf8))
        let known = verifiedSecrets.withLock { $0[prefix] }
        if let known, known.storedHash == storedHash {
            return constantTimeEquals(known.secretDigest, digest)
        }
        // bcrypt takes tens of milliseconds by design, so it runs without holding the connection.
        guard BCrypt.verify(password: Array(secret.utf8), hash: String(decoding: storedHash, as: UTF8.self)) else {
            return false
        }
        verifiedSecrets.withLock { $0[prefix] = VerifiedSecret(storedHash: storedHash, secretDigest: digest) }
        return true
    }

    private func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices {
            difference |= lhs[index] ^ rhs[index]
        }
        return difference == 0
    }

    /// Checks a pre-auth key for a new registration and, for a single-use key, marks it used.
    ///
    /// The state check and the update run in one transaction, so when several registrations race on one
    /// single-use key exactly one succeeds.
    ///
    /// - Throws: `.preAuthKeyInvalid` ("invalid pre-auth key"), `.preAuthKeyExpired` ("pre-auth key expired") or
    ///   `.preAuthKeyUsed` ("pre-auth key already used"); the messages are meant for the Tailscale client.
    /// - Returns: the key as stored after the call.
    public func usePreAuthKey(secret: String, now: Date) throws(StoreError) -> PreAuthKey {
        let found = try findPreAuthKey(secret: secret)
        return try transaction { (database) throws(StoreError) -> PreAuthKey in
            guard let key = try Store.findPreAuthKey(database, id: found.id) else {
                throw StoreError(.preAuthKeyInvalid, "invalid pre-auth key")
            }
            if key.isExpired(at: now) {
                throw StoreError(.preAuthKeyExpired, "pre-auth key expired")
            }
            if key.reusable {
                return key
            }
            try database.run("UPDATE pre_auth_keys SET used = 1 WHERE id = ? AND used = 0", [.integer(key.id)])
            guard database.changes == 1 else {
                throw StoreError(.preAuthKeyUsed, "pre-auth key already used")
            }
            return try Store.requirePreAuthKey(database, id: key.id)
        }
    }
}
