import Foundation
import HSCore
import HSStore
import Testing

@testable import HSControl

@Suite struct RequestTagsTests {
    static let policy = #"""
        {"tagOwners": {"tag:server": ["alice@"]},
         "acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}]}
        """#

    static func request(_ client: FakeClient, key: String, tags: [String]) throws -> RegisterRequest {
        let body: [String: Any] = [
            "Version": 130, "NodeKey": client.nodeKey.text, "Auth": ["AuthKey": key],
            "Hostinfo": ["Hostname": client.hostname, "RequestTags": tags],
        ]
        return try JSONDecoder().decode(RegisterRequest.self, from: JSONSerialization.data(withJSONObject: body))
    }

    static func fixtureWithPolicy() throws -> PlaneFixture {
        let fixture = try PlaneFixture()
        let path = fixture.directory + "/policy.hujson"
        try policy.write(toFile: path, atomically: true, encoding: .utf8)
        PolicyManagerTests.manager(fixture, path: path).loadAtStart()
        return fixture
    }

    @Test func ownedTagsMakeTaggedNode() throws {
        let fixture = try Self.fixtureWithPolicy()
        let client = FakeClient(hostname: "web")
        let reply = try decodeRegister(
            fixture.plane.register(
                try Self.request(client, key: fixture.makeKey(), tags: ["tag:server"]),
                machineKey: client.machineKey
            )
        )
        #expect(reply["Error"] == nil)
        let node = try #require(try fixture.store.nodes().first)
        #expect(node.tags == ["tag:server"])
        #expect(node.userID == nil)
        #expect(node.expiry == nil)
    }

    @Test func unownedTagsRejected() throws {
        let fixture = try Self.fixtureWithPolicy()
        let bob = try fixture.store.createUser(name: "bob").id
        try fixture.plane.reloadUsers()
        let key = try fixture.store.createPreAuthKey(
            userID: bob,
            reusable: false,
            ephemeral: false,
            expiration: nil,
            tags: []
        ).secret
        let client = FakeClient(hostname: "web")
        let reply = try decodeRegister(
            fixture.plane.register(try Self.request(client, key: key, tags: ["tag:server"]), machineKey: client.machineKey)
        )
        #expect((reply["Error"] as? String)?.contains("tag:server") == true)
        #expect(try fixture.store.nodes().isEmpty)
    }

    @Test func tagsRejectedWithoutPolicy() throws {
        let fixture = try PlaneFixture()
        let client = FakeClient(hostname: "web")
        let reply = try decodeRegister(
            fixture.plane.register(
                try Self.request(client, key: fixture.makeKey(), tags: ["tag:server"]),
                machineKey: client.machineKey
            )
        )
        #expect((reply["Error"] as? String)?.contains("not permitted") == true)
    }
}
