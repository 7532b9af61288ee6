import Foundation
import HSCore
import Testing

@testable import HSControl

@Suite struct NodeAttrsTests {
    static func policy(attributes: [String]) -> String {
        let list = attributes.map { "\"\($0)\"" }.joined(separator: ", ")
        return """
            {"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}],
             "nodeAttrs": [{"target": ["alice@"], "attr": [\(list)]}]}
            """
    }

    @Test func nodeAttrsReachCapMapAndFollowChanges() throws {
        let fixture = try PlaneFixture()
        let path = fixture.directory + "/policy.hujson"
        try Self.policy(attributes: ["https://example.com/cap/test"]).write(toFile: path, atomically: true, encoding: .utf8)
        let manager = PolicyManagerTests.manager(fixture, path: path)
        manager.loadAtStart()

        let (_, sink, full) = try PolicyDeliveryTests.join(fixture, hostname: "a1", userID: fixture.userID)
        let caps = try #require((full["Node"] as? [String: Any])?["CapMap"] as? [String: Any])
        #expect(caps.keys.contains("https://example.com/cap/test"))
        #expect(caps["https://example.com/cap/test"] is NSNull)
        #expect(caps.keys.contains("disable-captive-portal-detection"))

        try Self.policy(attributes: []).write(toFile: path, atomically: true, encoding: .utf8)
        manager.reload()
        let update = try #require(try sink.decoded().last?["Node"] as? [String: Any])
        let after = try #require(update["CapMap"] as? [String: Any])
        #expect(!after.keys.contains("https://example.com/cap/test"))
    }
}

