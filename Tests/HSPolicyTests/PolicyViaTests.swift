import HSPolicy
import Testing

/// Grants with `via`: only the via-tagged routers of the destination prefix receive the rule.
@Suite struct PolicyViaTests {
    /// alice's laptop (1), two routers for 10.1.0.0/16: tag:eu (2) and tag:us (3), and an untagged
    /// router of the same prefix owned by bob (4).
    static let tailnet = PolicyTailnet(
        users: SmallTailnet.users,
        nodes: [
            SmallTailnet.node(1, "laptop", user: 1),
            SmallTailnet.node(2, "router-eu", user: nil, tags: ["tag:eu"], routes: ["10.1.0.0/16", "10.9.0.0/16"]),
            SmallTailnet.node(3, "router-us", user: nil, tags: ["tag:us"], routes: ["10.1.0.0/16"]),
            SmallTailnet.node(4, "router-home", user: 2, routes: ["10.1.0.0/16"]),
        ],
        serverURL: "https://hs.example.com"
    )

    static func compile(_ grant: String) throws -> CompiledTailnetPolicy {
        let text = #"{"tagOwners": {"tag:eu": ["alice@"], "tag:us": ["alice@"]}, "grants": [\#(grant)]}"#
        return CompiledTailnetPolicy(policy: try Policy.parse(text), tailnet: tailnet)
    }

    @Test func viaRouterGetsRule() throws {
        let compiled = try Self.compile(
            #"{"src": ["alice@"], "dst": ["10.1.0.0/16"], "ip": ["tcp:443"], "via": ["tag:eu"]}"#
        )
        let router = try #require(compiled.node(2))
        #expect(
            router.filterRules == [
                FilterRule(
                    srcIPs: ["100.64.0.1", "fd7a:115c:a1e0::1"],
                    dstPorts: [FilterDestination(ip: "10.1.0.0/16", ports: PortRange(first: 443, last: 443))],
                    ipProto: [6]
                )
            ]
        )
        #expect(router.visiblePeerIDs == [1])
        #expect(compiled.isVisible(2, to: 1))
    }

    @Test func otherRoutersGetNothing() throws {
        let compiled = try Self.compile(#"{"src": ["alice@"], "dst": ["10.1.0.0/16"], "ip": ["*"], "via": ["tag:eu"]}"#)
        #expect(try #require(compiled.node(3)).filterRules.isEmpty)
        #expect(try #require(compiled.node(4)).filterRules.isEmpty)
        #expect(try #require(compiled.node(1)).filterRules.isEmpty)
        #expect(!compiled.isVisible(3, to: 1))
        #expect(!compiled.isVisible(4, to: 1))
    }

    @Test func onlyServedPrefixesKept() throws {
        let grant =
            #"{"src": ["alice@"], "dst": ["10.1.0.0/16", "10.9.0.0/16", "tag:us"], "ip": ["22"], "via": ["tag:eu", "tag:us"]}"#
        let compiled = try Self.compile(grant)
        let eu = try #require(compiled.node(2)).filterRules.flatMap(\.dstPorts).map(\.ip)
        let us = try #require(compiled.node(3)).filterRules.flatMap(\.dstPorts).map(\.ip)
        #expect(eu == ["10.1.0.0/16", "10.9.0.0/16"])
        #expect(us == ["10.1.0.0/16"])
    }

    @Test func broaderPrefixReachesRouter() throws {
        let compiled = try Self.compile(#"{"src": ["alice@"], "dst": ["10.0.0.0/8"], "ip": ["*"], "via": ["tag:us"]}"#)
        let rules = try #require(compiled.node(3)).filterRules
        #expect(rules.flatMap(\.dstPorts).map(\.ip) == ["10.0.0.0/8"])
        #expect(try #require(compiled.node(2)).filterRules.isEmpty)
    }

    @Test func appOnlyViaGrantHasNoFilter() throws {
        let grant =
            #"{"src": ["alice@"], "dst": ["10.1.0.0/16"], "app": {"example.com/cap/x": [{}]}, "via": ["tag:eu"]}"#
        let compiled = try Self.compile(grant)
        for id: UInt64 in 1...4 {
            #expect(try #require(compiled.node(id)).filterRules.isEmpty)
        }
    }

    @Test func grantWithoutViaReachesAllRouters() throws {
        let compiled = try Self.compile(#"{"src": ["alice@"], "dst": ["10.1.0.0/16"], "ip": ["*"]}"#)
        for id: UInt64 in 2...4 {
            #expect(try #require(compiled.node(id)).filterRules.count == 1)
        }
    }
}
