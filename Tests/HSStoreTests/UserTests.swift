import Foundation
import Testing

@testable import HSStore

@Suite struct UserTests {
    @Test func createAndLookUpUsers() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let alice = try store.createUser(name: "alice", displayName: "Alice A.", email: "alice@example.com")
        let bob = try store.createUser(name: "bob")
        #expect(alice.id != bob.id)
        #expect(alice.displayName == "Alice A.")
        #expect(alice.email == "alice@example.com")
        #expect(alice.providerIdentifier == nil)
        #expect(alice.createdAt != nil)
        #expect(try store.users().map(\.name) == ["alice", "bob"])
        #expect(try store.user(id: bob.id) == bob)
        #expect(try store.user(name: "alice") == alice)
        #expect(try store.user(name: "carol") == nil)
        #expect(try store.user(id: 999) == nil)
    }

    @Test func duplicateNameIsConflict() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        _ = try store.createUser(name: "alice")
        let error = #expect(throws: StoreError.self) { try store.createUser(name: "alice") }
        #expect(error?.code == .conflict)
        #expect(error?.message.contains("\"alice\"") == true)
    }

    @Test func invalidNamesAreRejected() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        for name in ["", "has space", "tab\there", String(repeating: "x", count: 256)] {
            let error = #expect(throws: StoreError.self) { try store.createUser(name: name) }
            #expect(error?.code == .invalidArgument, "\(name)")
        }
    }

    @Test func renameUserChecksConflicts() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let alice = try store.createUser(name: "alice")
        _ = try store.createUser(name: "bob")
        #expect(try store.renameUser(id: alice.id, newName: "alicia").name == "alicia")
        #expect(try store.user(name: "alice") == nil)
        let error = #expect(throws: StoreError.self) { try store.renameUser(id: alice.id, newName: "bob") }
        #expect(error?.code == .conflict)
        let missing = #expect(throws: StoreError.self) { try store.renameUser(id: 42, newName: "zed") }
        #expect(missing?.code == .notFound)
    }

    @Test func deleteUserRefusedWhileNodesExist() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let alice = try store.createUser(name: "alice")
        let (key, _) = try store.createPreAuthKey(
            userID: alice.id,
            reusable: false,
            ephemeral: false,
            expiration: nil,
            tags: []
        )
        let node = try store.createNode(testNode(1, userID: alice.id))
        let error = #expect(throws: StoreError.self) { try store.deleteUser(id: alice.id) }
        #expect(error?.code == .conflict)
        #expect(error?.message.contains("1 node") == true)

        try store.deleteNode(id: node.id)
        try store.deleteUser(id: alice.id)
        #expect(try store.user(id: alice.id) == nil)
        #expect(try store.preAuthKey(id: key.id) == nil)
        let missing = #expect(throws: StoreError.self) { try store.deleteUser(id: alice.id) }
        #expect(missing?.code == .notFound)
    }

    @Test func taggedNodesDoNotBlockDelete() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let alice = try store.createUser(name: "alice")
        let (key, _) = try store.createPreAuthKey(
            userID: alice.id,
            reusable: true,
            ephemeral: false,
            expiration: nil,
            tags: ["tag:server"]
        )
        var tagged = testNode(1, userID: nil, tags: ["tag:server"])
        tagged.authKeyID = key.id
        let node = try store.createNode(tagged)
        try store.deleteUser(id: alice.id)
        #expect(try store.node(id: node.id)?.authKeyID == nil)
    }
}
