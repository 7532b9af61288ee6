import Foundation
import Synchronization
import Testing

@testable import HSStore

@Suite struct PreAuthKeyTests {
    @Test func newKeyHasHeadscaleFormat() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let user = try store.createUser(name: "alice")
        let (key, secret) = try store.createPreAuthKey(
            userID: user.id,
            reusable: false,
            ephemeral: true,
            expiration: nil,
            tags: []
        )
        #expect(secret.hasPrefix("hskey-auth-"))
        #expect(secret.count == "hskey-auth-".count + 12 + 1 + 64)
        let parts = try #require(KeySecret.split(secret, tag: "hskey-auth-"))
        #expect(key.prefix == parts.prefix)
        #expect(key.displayKey == "hskey-auth-\(parts.prefix)-***")
        #expect(key.userID == user.id)
        #expect(key.ephemeral)
        #expect(!key.reusable)
        #expect(!key.used)
        #expect(try store.preAuthKeys(userID: user.id) == [key])
        #expect(try store.preAuthKeys(userID: nil) == [key])
    }

    @Test func onlyHashIsStored() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let user = try store.createUser(name: "alice")
        let (key, secret) = try store.createPreAuthKey(
            userID: user.id,
            reusable: false,
            ephemeral: false,
            expiration: nil,
            tags: []
        )
        let secretPart = String(secret.suffix(64))
        let row = try store.withDatabase { (database) throws(StoreError) in
            try database.queryOne("SELECT key, hash FROM pre_auth_keys WHERE id = ?", [.integer(key.id)]) {
                (key: $0.string(0) ?? "", hash: String(decoding: $0.blob(1) ?? [], as: UTF8.self))
            }
        }
        let stored = try #require(row)
        #expect(stored.key == "")
        #expect(stored.hash.hasPrefix("$2a$04$"))
        #expect(!stored.hash.contains(secretPart))
        #expect(BCrypt.verify(password: Array(secretPart.utf8), hash: stored.hash))
    }

    @Test func singleUseKeyWorksOnce() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let user = try store.createUser(name: "alice")
        let (_, secret) = try store.createPreAuthKey(
            userID: user.id,
            reusable: false,
            ephemeral: false,
            expiration: nil,
            tags: []
        )
        #expect(try store.usePreAuthKey(secret: secret, now: Date()).used)
        let error = #expect(throws: StoreError.self) { try store.usePreAuthKey(secret: secret, now: Date()) }
        #expect(error?.code == .preAuthKeyUsed)
        #expect(error?.message == "pre-auth key already used")
        #expect(try store.findPreAuthKey(secret: secret).used)
    }

    @Test func racingSingleUseHasOneWinner() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let user = try store.createUser(name: "alice")
        let (_, secret) = try store.createPreAuthKey(
            userID: user.id,
            reusable: false,
            ephemeral: false,
            expiration: nil,
            tags: []
        )
        let outcomes = concurrently(8) { _ -> StoreError.Code? in
            do throws(StoreError) {
                _ = try store.usePreAuthKey(secret: secret, now: Date())
                return nil
            } catch {
                return error.code
            }
        }
        #expect(outcomes.filter { $0 == nil }.count == 1)
        #expect(outcomes.filter { $0 == .preAuthKeyUsed }.count == 7)
    }

    @Test func reusableKeyIsReused() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let user = try store.createUser(name: "alice")
        let (_, secret) = try store.createPreAuthKey(
            userID: user.id,
            reusable: true,
            ephemeral: false,
            expiration: nil,
            tags: []
        )
        for _ in 0..<3 {
            let key = try store.usePreAuthKey(secret: secret, now: Date())
            #expect(key.reusable)
            #expect(!key.used)
        }
    }

    @Test func expiredKeyIsRejected() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let user = try store.createUser(name: "alice")
        let now = Date()
        let (_, past) = try store.createPreAuthKey(
            userID: user.id,
            reusable: true,
            ephemeral: false,
            expiration: now.addingTimeInterval(-1),
            tags: []
        )
        let error = #expect(throws: StoreError.self) { try store.usePreAuthKey(secret: past, now: now) }
        #expect(error?.code == .preAuthKeyExpired)
        #expect(error?.message == "pre-auth key expired")

        let (key, future) = try store.createPreAuthKey(
            userID: user.id,
            reusable: true,
            ephemeral: false,
            expiration: now.addingTimeInterval(3600),
            tags: []
        )
        #expect(try store.usePreAuthKey(secret: future, now: now).id == key.id)
        try store.expirePreAuthKey(id: key.id, now: now)
        let expired = #expect(throws: StoreError.self) { try store.usePreAuthKey(secret: future, now: now) }
        #expect(expired?.code == .preAuthKeyExpired)
    }

    @Test func unknownKeysAreInvalid() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let user = try store.createUser(name: "alice")
        let (_, secret) = try store.createPreAuthKey(
            userID: user.id,
            reusable: true,
            ephemeral: false,
            expiration: nil,
            tags: []
        )
        let wrongSecret = String(secret.dropLast()) + (secret.hasSuffix("A") ? "B" : "A")
        let unknownPrefix = "hskey-auth-AAAAAAAAAAAA-" + String(secret.suffix(64))
        for candidate in ["", "nonsense", wrongSecret, unknownPrefix, "hskey-auth-short", secret + "x"] {
            let error = #expect(throws: StoreError.self) { try store.usePreAuthKey(secret: candidate, now: Date()) }
            #expect(error?.code == .preAuthKeyInvalid, "\(candidate)")
            #expect(error?.message == "invalid pre-auth key")
        }
    }

    @Test func legacyPlaintextKeyIsAccepted() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let user = try store.createUser(name: "alice")
        let legacy = "0123456789abcdef0123456789abcdef0123456789abcdef"
        try store.withDatabase { (database) throws(StoreError) in
            try database.run(
                "INSERT INTO pre_auth_keys (key, user_id, reusable, ephemeral, used, tags, created_at) "
                    + "VALUES (?, ?, 0, 0, 0, '[]', '2026-01-01 00:00:00+00:00')",
                [.text(legacy), .integer(user.id)]
            )
        }
        let key = try store.usePreAuthKey(secret: legacy, now: Date())
        #expect(key.prefix == nil)
        #expect(key.displayKey == "01234567***")
        #expect(key.used)
        let again = #expect(throws: StoreError.self) { try store.usePreAuthKey(secret: legacy, now: Date()) }
        #expect(again?.code == .preAuthKeyUsed)
    }

    @Test func taggedKeyNeedsNoUser() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let (key, _) = try store.createPreAuthKey(
            userID: nil,
            reusable: false,
            ephemeral: false,
            expiration: nil,
            tags: ["tag:web", "tag:db", "tag:web"]
        )
        #expect(key.tags == ["tag:db", "tag:web"])
        #expect(key.userID == nil)
    }

    @Test func badKeyArgumentsAreRejected() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let neither = #expect(throws: StoreError.self) {
            try store.createPreAuthKey(userID: nil, reusable: false, ephemeral: false, expiration: nil, tags: [])
        }
        #expect(neither?.code == .invalidArgument)
        let badTag = #expect(throws: StoreError.self) {
            try store.createPreAuthKey(
                userID: nil,
                reusable: false,
                ephemeral: false,
                expiration: nil,
                tags: ["server"]
            )
        }
        #expect(badTag?.code == .invalidArgument)
        let noUser = #expect(throws: StoreError.self) {
            try store.createPreAuthKey(userID: 77, reusable: false, ephemeral: false, expiration: nil, tags: [])
        }
        #expect(noUser?.code == .notFound)
    }

    @Test func deleteKeyKeepsItsNodes() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let user = try store.createUser(name: "alice")
        let (key, _) = try store.createPreAuthKey(
            userID: user.id,
            reusable: true,
            ephemeral: false,
            expiration: nil,
            tags: []
        )
        var node = testNode(1, userID: user.id)
        node.authKeyID = key.id
        let created = try store.createNode(node)
        try store.deletePreAuthKey(id: key.id)
        #expect(try store.preAuthKeys(userID: nil).isEmpty)
        #expect(try store.node(id: created.id)?.authKeyID == nil)
    }

    @Test func apiKeyValidates() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let (key, secret) = try store.createAPIKey(expiration: Date().addingTimeInterval(3600))
        #expect(secret.hasPrefix("hskey-api-\(key.prefix)-"))
        #expect(try store.validateAPIKey(secret).id == key.id)
        #expect(try store.apiKeys().map(\.id) == [key.id])
        let wrong = #expect(throws: StoreError.self) { try store.validateAPIKey(String(secret.dropLast()) + "!") }
        #expect(wrong?.code == .apiKeyInvalid)
        try store.expireAPIKey(id: key.id)
        let expired = #expect(throws: StoreError.self) {
            try store.validateAPIKey(secret, now: Date().addingTimeInterval(1))
        }
        #expect(expired?.code == .apiKeyInvalid)
        try store.deleteAPIKey(id: key.id)
        #expect(try store.apiKeys().isEmpty)
    }
}

@Suite struct VerifiedSecretCacheTests {
    /// A reusable key skips bcrypt after its first use, yet a wrong secret with the same prefix is
    /// still rejected and a changed hash is checked again.
    @Test func secondUseSkipsBcryptButStillChecks() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let user = try store.createUser(name: "alice")
        let (key, secret) = try store.createPreAuthKey(
            userID: user.id,
            reusable: true,
            ephemeral: false,
            expiration: nil,
            tags: []
        )
        #expect(try store.usePreAuthKey(secret: secret, now: Date()).id == key.id)
        #expect(store.verifiedSecrets.withLock { $0.count } == 1)
        #expect(try store.usePreAuthKey(secret: secret, now: Date()).id == key.id)

        var forged = Array(secret)
        forged[forged.count - 1] = forged.last == "a" ? "b" : "a"
        let error = #expect(throws: StoreError.self) { try store.usePreAuthKey(secret: String(forged), now: Date()) }
        #expect(error?.code == .preAuthKeyInvalid)
    }
}
