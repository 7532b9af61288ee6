import Foundation
import HSCore
import HSStore
import Testing

@testable import HSControl

@Suite struct PolicyManagerTests {
    /// Alice's nodes may reach each other; nobody else may reach anything.
    static let aliceOnly = """
        {
          // Only alice's own devices talk to each other.
          "acls": [
            {"action": "accept", "src": ["alice@"], "dst": ["alice@:*"]},
          ],
        }
        """

    static func manager(_ fixture: PlaneFixture, path: String) -> PolicyManager {
        PolicyManager(
            mode: .file(path: path),
            plane: fixture.plane,
            storage: StoreAdapter(store: fixture.store, pool: nil),
            serverURL: "http://127.0.0.1:8080",
            logger: Logger(label: "test", minimumLevel: .critical)
        )
    }

    static func writePolicy(_ text: String, in fixture: PlaneFixture) throws -> String {
        let path = fixture.directory + "/policy.hujson"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func fileRestrictsPeersAndFilters() throws {
        let fixture = try PlaneFixture()
        let bob = try fixture.store.createUser(name: "bob").id
        try fixture.plane.reloadUsers()
        Self.manager(fixture, path: try Self.writePolicy(Self.aliceOnly, in: fixture)).loadAtStart()

        let (_, _, _) = try PolicyDeliveryTests.join(fixture, hostname: "a1", userID: fixture.userID)
        let (_, _, fullB) = try PolicyDeliveryTests.join(fixture, hostname: "b1", userID: bob)
        let (_, _, fullA2) = try PolicyDeliveryTests.join(fixture, hostname: "a2", userID: fixture.userID)

        #expect(PolicyDeliveryTests.peerNames(fullA2) == ["a1.tail.test."])
        #expect(PolicyDeliveryTests.peerNames(fullB).isEmpty)
        let filter = try #require(fullA2["PacketFilter"] as? [[String: Any]])
        let sources = filter.flatMap { ($0["SrcIPs"] as? [String]) ?? [] }
        #expect(sources.contains("100.64.0.1"))
        #expect(!sources.contains("100.64.0.2"))
        let filterOfB = try #require(fullB["PacketFilter"] as? [[String: Any]])
        #expect(filterOfB.isEmpty)
    }

    @Test func invalidReloadKeepsPreviousPolicy() throws {
        let fixture = try PlaneFixture()
        let bob = try fixture.store.createUser(name: "bob").id
        try fixture.plane.reloadUsers()
        let path = try Self.writePolicy(Self.aliceOnly, in: fixture)
        let manager = Self.manager(fixture, path: path)
        manager.loadAtStart()
        try #"{"acls": [ {"action": "accept", "src": ["nosuchgroup:x"], "dst": ["*:*"]} ]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        manager.reload()

        let (_, _, _) = try PolicyDeliveryTests.join(fixture, hostname: "a1", userID: fixture.userID)
        let (_, _, fullB) = try PolicyDeliveryTests.join(fixture, hostname: "b1", userID: bob)
        #expect(PolicyDeliveryTests.peerNames(fullB).isEmpty)
    }

    @Test func reloadOpensAccess() throws {
        let fixture = try PlaneFixture()
        let bob = try fixture.store.createUser(name: "bob").id
        try fixture.plane.reloadUsers()
        let path = try Self.writePolicy(Self.aliceOnly, in: fixture)
        let manager = Self.manager(fixture, path: path)
        manager.loadAtStart()
        let (_, sinkA, _) = try PolicyDeliveryTests.join(fixture, hostname: "a1", userID: fixture.userID)
        _ = try PolicyDeliveryTests.join(fixture, hostname: "b1", userID: bob)

        try #"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        manager.reload()
        let delta = try #require(try sinkA.decoded().last)
        #expect(PolicyDeliveryTests.peerNames(delta, key: "PeersChanged") == ["b1.tail.test."])
        #expect(delta["PacketFilter"] != nil)
    }

    @Test func unreadableFileDeniesAll() throws {
        let fixture = try PlaneFixture()
        Self.manager(fixture, path: fixture.directory + "/missing.hujson").loadAtStart()
        _ = try PolicyDeliveryTests.join(fixture, hostname: "a1", userID: fixture.userID)
        let (_, _, full) = try PolicyDeliveryTests.join(fixture, hostname: "a2", userID: fixture.userID)
        #expect(PolicyDeliveryTests.peerNames(full).isEmpty)
        #expect((full["PacketFilter"] as? [Any])?.isEmpty == true)
    }
}
