import Foundation
import HSCore
import Testing

@testable import HSStore

@Suite struct NodeTests {
    @Test func createAndReadNode() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let user = try store.createUser(name: "alice")
        var node = testNode(1, userID: user.id, name: "laptop")
        node.hostinfo = Array(#"{"OS":"linux","Hostname":"laptop"}"#.utf8)
        node.approvedRoutes = ["10.0.0.0/8"]
        node.expiry = Date(timeIntervalSince1970: 1_900_000_000)
        node.ipv4 = "100.64.0.7"
        let created = try store.createNode(node)
        #expect(created.id > 0)
        #expect(created.createdAt != nil)
        #expect(try store.node(id: created.id) == created)
        #expect(try store.node(machineKey: node.machineKey) == created)
        #expect(try store.node(nodeKey: node.nodeKey) == created)
        #expect(try store.nodes(userID: user.id) == [created])
        #expect(try store.nodes(userID: nil) == [created])
        #expect(try store.nodes(userID: user.id + 1).isEmpty)
        #expect(created.hostinfo == node.hostinfo)
        #expect(created.approvedRoutes == ["10.0.0.0/8"])
        #expect(created.endpoints == ["192.0.2.1:41641"])
        #expect(created.expiry == node.expiry)
        #expect(created.ipv4 == "100.64.0.7")
        #expect(created.ipv6 == nil)
    }

    @Test func columnsUseHeadscaleText() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let node = try store.createNode(testNode(1, userID: nil, tags: ["tag:server"]))
        let row = try store.withDatabase { (database) throws(StoreError) in
            try database.queryOne(
                "SELECT machine_key, tags, approved_routes, register_method, created_at FROM nodes WHERE id = ?",
                [.integer(node.id)]
            ) { [$0.string(0) ?? "", $0.string(1) ?? "", $0.string(2) ?? "", $0.string(3) ?? "", $0.string(4) ?? ""] }
        }
        let columns = try #require(row)
        #expect(columns[0].hasPrefix("mkey:"))
        #expect(columns[1] == #"["tag:server"]"#)
        #expect(columns[2] == "[]")
        #expect(columns[3] == "authkey")
        #expect(columns[4].hasSuffix("+00:00"))
    }

    @Test func updateNodeChangesFields() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        var node = try store.createNode(testNode(1, userID: nil, tags: ["tag:a"]))
        node.nodeKey = testKey(99)
        node.endpoints = []
        node.lastSeen = Date(timeIntervalSince1970: 1_800_000_000)
        node.approvedRoutes = ["0.0.0.0/0", "::/0"]
        let updated = try store.updateNode(node, now: Date(timeIntervalSince1970: 1_800_000_001))
        #expect(updated.nodeKey == testKey(99))
        #expect(updated.endpoints.isEmpty)
        #expect(updated.lastSeen == node.lastSeen)
        #expect(updated.approvedRoutes == ["0.0.0.0/0", "::/0"])
        #expect(updated.updatedAt == Date(timeIntervalSince1970: 1_800_000_001))
        #expect(try store.node(nodeKey: testKey(99))?.id == node.id)
        #expect(try store.node(nodeKey: testKey(1)) == nil)
        node.id = 12345
        let missing = #expect(throws: StoreError.self) { try store.updateNode(node) }
        #expect(missing?.code == .notFound)
    }

    @Test func givenNamesGetSuffixes() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let names = try (0..<3).map {
            try store.createNode(testNode($0, userID: nil, name: "box", tags: ["tag:a"])).givenName
        }
        #expect(names == ["box", "box-1", "box-2"])
        let long = String(repeating: "a", count: 63)
        _ = try store.createNode(testNode(10, userID: nil, name: long, tags: ["tag:a"]))
        let second = try store.createNode(testNode(11, userID: nil, name: long, tags: ["tag:a"]))
        #expect(second.givenName == String(repeating: "a", count: 61) + "-1")
    }

    @Test func renameNodeRejectsDuplicates() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let first = try store.createNode(testNode(1, userID: nil, name: "one", tags: ["tag:a"]))
        _ = try store.createNode(testNode(2, userID: nil, name: "two", tags: ["tag:a"]))
        #expect(try store.renameNode(id: first.id, givenName: "uno").givenName == "uno")
        let taken = #expect(throws: StoreError.self) { try store.renameNode(id: first.id, givenName: "two") }
        #expect(taken?.code == .conflict)
        for bad in ["", "-lead", "trail-", "UPPER", "dot.ted", String(repeating: "x", count: 64)] {
            let error = #expect(throws: StoreError.self) { try store.renameNode(id: first.id, givenName: bad) }
            #expect(error?.code == .invalidArgument, "\(bad)")
        }
    }

    @Test func deleteNodeRemovesRow() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let node = try store.createNode(testNode(1, userID: nil, tags: ["tag:a"]))
        try store.deleteNode(id: node.id)
        #expect(try store.node(id: node.id) == nil)
        let again = #expect(throws: StoreError.self) { try store.deleteNode(id: node.id) }
        #expect(again?.code == .notFound)
    }

    @Test func corruptKeyNamesNode() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        let node = try store.createNode(testNode(1, userID: nil, tags: ["tag:a"]))
        try store.withDatabase { (database) throws(StoreError) in
            try database.run("UPDATE nodes SET node_key = 'nodekey:zz' WHERE id = ?", [.integer(node.id)])
        }
        let error = #expect(throws: StoreError.self) { try store.node(id: node.id) }
        #expect(error?.code == .corruptRow)
        #expect(error?.message.contains("node \(node.id)") == true)
    }

    @Test func policyKeepsNewest() throws {
        let folder = TemporaryFolder()
        let store = try folder.store()
        #expect(try store.policy() == nil)
        try store.setPolicy(#"{"acls": []}"#)
        try store.setPolicy(#"{"acls": [{"action": "accept"}]}"#)
        #expect(try store.policy()?.data == #"{"acls": [{"action": "accept"}]}"#)
    }
}
