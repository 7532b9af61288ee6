import HSPolicy
import Testing

/// Which routers `via` grants make each viewer use for a subnet route.
@Suite struct ViaSteeringTests {
    /// alice's laptop (1) and phone (2), bob's desktop (3); routers for 10.1.0.0/16: tag:eu (4 and 5),
    /// tag:us (6) and bob's untagged router (7); tag:eu router 5 also serves 10.9.0.0/16.
    static func tailnet(approvedAt5: [String] = ["10.1.0.0/16", "10.9.0.0/16"]) -> PolicyTailnet {
        var router5 = SmallTailnet.node(5, "eu-2", user: nil, tags: ["tag:eu"], routes: ["10.1.0.0/16", "10.9.0.0/16"])
        router5.approvedRoutes = approvedAt5.compactMap { IPPrefix($0) }
        return PolicyTailnet(
            users: SmallTailnet.users,
            nodes: [
                SmallTailnet.node(1, "laptop", user: 1),
                SmallTailnet.node(2, "phone", user: 1),
                SmallTailnet.node(3, "desktop", user: 2),
                SmallTailnet.node(4, "eu-1", user: nil, tags: ["tag:eu"], routes: ["10.1.0.0/16"]),
                router5,
                SmallTailnet.node(6, "us-1", user: nil, tags: ["tag:us"], routes: ["10.1.0.0/16"]),
                SmallTailnet.node(7, "home", user: 2, routes: ["10.1.0.0/16"]),
            ],
            serverURL: "https://hs.example.com"
        )
    }

    static func steering(_ rules: String, tailnet: PolicyTailnet = tailnet()) throws -> ViaSteering {
        let text = #"{"tagOwners": {"tag:eu": ["alice@"], "tag:us": ["alice@"]}, \#(rules)}"#
        return ViaSteering(policy: try Policy.parse(text), tailnet: tailnet)
    }

    @Test func noViaGrantSteersNothing() throws {
        let steering = try Self.steering(#""grants": [{"src": ["*"], "dst": ["10.1.0.0/16"], "ip": ["*"]}]"#)
        #expect(steering.isEmpty)
        #expect(steering == .none)
    }

    @Test func sourceGetsTaggedRouters() throws {
        let steering = try Self.steering(
            #""grants": [{"src": ["alice@"], "dst": ["10.1.0.0/16"], "ip": ["*"], "via": ["tag:eu"]}]"#
        )
        let expected = [ViaRoute(prefix: "10.1.0.0/16", routers: [4, 5])]
        #expect(steering.routes(for: 1) == expected)
        #expect(steering.routes(for: 2) == expected)
        #expect(steering.routes(for: 3).isEmpty)
        #expect(Set(steering.routesByViewer.keys) == [1, 2])
    }

    @Test func twoTagsSplitTheViewers() throws {
        let steering = try Self.steering(
            #"""
            "grants": [
                {"src": ["alice@"], "dst": ["10.1.0.0/16"], "ip": ["*"], "via": ["tag:eu"]},
                {"src": ["bob@"], "dst": ["10.1.0.0/16"], "ip": ["*"], "via": ["tag:us"]}
            ]
            """#
        )
        #expect(steering.routes(for: 1) == [ViaRoute(prefix: "10.1.0.0/16", routers: [4, 5])])
        #expect(steering.routes(for: 3) == [ViaRoute(prefix: "10.1.0.0/16", routers: [6])])
    }

    @Test func sourceInTwoGrantsPoolsRouters() throws {
        let steering = try Self.steering(
            #"""
            "grants": [
                {"src": ["alice@"], "dst": ["10.1.0.0/16"], "ip": ["tcp:22"], "via": ["tag:us"]},
                {"src": ["autogroup:member"], "dst": ["10.0.0.0/8"], "ip": ["tcp:443"], "via": ["tag:eu"]}
            ]
            """#
        )
        #expect(
            steering.routes(for: 1) == [
                ViaRoute(prefix: "10.1.0.0/16", routers: [4, 5, 6]),
                ViaRoute(prefix: "10.9.0.0/16", routers: [5]),
            ]
        )
        #expect(
            steering.routes(for: 3) == [
                ViaRoute(prefix: "10.1.0.0/16", routers: [4, 5]),
                ViaRoute(prefix: "10.9.0.0/16", routers: [5]),
            ]
        )
    }

    @Test func unapprovedRouteIsNotCandidate() throws {
        let steering = try Self.steering(
            #""grants": [{"src": ["alice@"], "dst": ["10.0.0.0/8"], "ip": ["*"], "via": ["tag:eu"]}]"#,
            tailnet: Self.tailnet(approvedAt5: [])
        )
        #expect(steering.routes(for: 1) == [ViaRoute(prefix: "10.1.0.0/16", routers: [4])])
    }

    @Test func otherTagsRouteHasNoRouter() throws {
        let steering = try Self.steering(
            #""grants": [{"src": ["alice@"], "dst": ["10.9.0.0/16"], "ip": ["*"], "via": ["tag:us"]}]"#
        )
        #expect(steering.routes(for: 1) == [ViaRoute(prefix: "10.9.0.0/16", routers: [])])
    }

    @Test func regularGrantCancelsSteering() throws {
        let steering = try Self.steering(
            #"""
            "grants": [
                {"src": ["alice@"], "dst": ["10.0.0.0/8"], "ip": ["*"], "via": ["tag:eu"]},
                {"src": ["laptop"], "dst": ["10.1.2.0/24"], "ip": ["*"]}
            ],
            "hosts": {"laptop": "100.64.0.1/32"}
            """#
        )
        #expect(steering.routes(for: 1) == [ViaRoute(prefix: "10.9.0.0/16", routers: [5])])
        #expect(
            steering.routes(for: 2) == [
                ViaRoute(prefix: "10.1.0.0/16", routers: [4, 5]),
                ViaRoute(prefix: "10.9.0.0/16", routers: [5]),
            ]
        )
    }

    @Test func wildcardACLCancelsSteering() throws {
        let steering = try Self.steering(
            #"""
            "acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}],
            "grants": [{"src": ["alice@"], "dst": ["10.1.0.0/16"], "ip": ["*"], "via": ["tag:eu"]}]
            """#
        )
        #expect(steering.isEmpty)
    }

    @Test func viaRouterIsNotOwnCandidate() throws {
        let steering = try Self.steering(
            #""grants": [{"src": ["tag:eu"], "dst": ["10.1.0.0/16"], "ip": ["*"], "via": ["tag:eu"]}]"#
        )
        #expect(steering.routes(for: 4) == [ViaRoute(prefix: "10.1.0.0/16", routers: [5])])
        #expect(steering.routes(for: 5) == [ViaRoute(prefix: "10.1.0.0/16", routers: [4])])
    }

    @Test func compiledPolicyMatchesDirect() throws {
        let text =
            #"{"tagOwners": {"tag:eu": ["alice@"]}, "grants": [{"src": ["alice@"], "dst": ["10.1.0.0/16"], "ip": ["*"], "via": ["tag:eu"]}]}"#
        let policy = try Policy.parse(text)
        let compiled = CompiledTailnetPolicy(policy: policy, tailnet: Self.tailnet())
        #expect(compiled.viaSteering() == ViaSteering(policy: policy, tailnet: Self.tailnet()))
        #expect(!compiled.viaSteering().isEmpty)
        #expect(CompiledTailnetPolicy(policy: nil, tailnet: Self.tailnet()).viaSteering().isEmpty)
    }

    @Test func recompiledPolicyFollowsRoutes() throws {
        let text =
            #"{"tagOwners": {"tag:eu": ["alice@"]}, "grants": [{"src": ["alice@"], "dst": ["10.0.0.0/8"], "ip": ["*"], "via": ["tag:eu"]}]}"#
        let policy = try Policy.parse(text)
        let changed = Self.tailnet(approvedAt5: ["10.9.0.0/16"])
        let recompiled = CompiledTailnetPolicy(policy: policy, tailnet: Self.tailnet()).recompiled(for: changed)
        #expect(recompiled.viaSteering() == ViaSteering(policy: policy, tailnet: changed))
        #expect(
            recompiled.viaSteering().routes(for: 1) == [
                ViaRoute(prefix: "10.1.0.0/16", routers: [4]),
                ViaRoute(prefix: "10.9.0.0/16", routers: [5]),
            ]
        )
    }
}

/// `via` grants to `autogroup:internet`: which exit nodes each viewer may use.
@Suite struct ViaExitSteeringTests {
    /// alice's laptop (1), bob's desktop (2), exit nodes tag:eu (3) and untagged (4).
    static let tailnet = PolicyTailnet(
        users: SmallTailnet.users,
        nodes: [
            SmallTailnet.node(1, "laptop", user: 1),
            SmallTailnet.node(2, "desktop", user: 2),
            SmallTailnet.node(3, "exit-eu", user: nil, tags: ["tag:eu"], routes: ["0.0.0.0/0", "::/0"]),
            SmallTailnet.node(4, "exit-home", user: 2, routes: ["0.0.0.0/0", "::/0"]),
        ],
        serverURL: "https://hs.example.com"
    )

    static func policy(_ grants: String) throws -> Policy {
        try Policy.parse(#"{"tagOwners": {"tag:eu": ["alice@"]}, "grants": [\#(grants)]}"#)
    }

    static let viaGrant = #"{"src": ["alice@"], "dst": ["autogroup:internet"], "ip": ["*"], "via": ["tag:eu"]}"#

    @Test func sourceGetsTaggedExitNodes() throws {
        let steering = ViaSteering(policy: try Self.policy(Self.viaGrant), tailnet: Self.tailnet)
        #expect(steering.exitNodes(for: 1) == [3])
        #expect(steering.exitNodes(for: 2) == nil)
        #expect(steering.routesByViewer.isEmpty)
        #expect(!steering.isEmpty)
    }

    @Test func regularInternetGrantCancels() throws {
        let grants = Self.viaGrant + #", {"src": ["laptop"], "dst": ["autogroup:internet"], "ip": ["*"]}"#
        let text =
            #"{"tagOwners": {"tag:eu": ["alice@"]}, "hosts": {"laptop": "100.64.0.1/32"}, "grants": [\#(grants)]}"#
        let steering = ViaSteering(policy: try Policy.parse(text), tailnet: Self.tailnet)
        #expect(steering.exitNodes(for: 1) == nil)
    }

    @Test func tagOnNoExitNodeLeavesNone() throws {
        let grant = #"{"src": ["alice@"], "dst": ["autogroup:internet"], "ip": ["*"], "via": ["tag:us"]}"#
        let text = #"{"tagOwners": {"tag:eu": ["alice@"], "tag:us": ["alice@"]}, "grants": [\#(grant)]}"#
        let steering = ViaSteering(policy: try Policy.parse(text), tailnet: Self.tailnet)
        #expect(steering.exitNodes(for: 1) == [])
    }

    @Test func taggedExitNodeGetsInternetRule() throws {
        let compiled = CompiledTailnetPolicy(policy: try Self.policy(Self.viaGrant), tailnet: Self.tailnet)
        let rules = try #require(compiled.node(3)).filterRules
        #expect(rules.count == 1)
        #expect(rules.first?.srcIPs == ["100.64.0.1", "fd7a:115c:a1e0::1"])
        #expect(rules.first?.dstPorts.isEmpty == false)
        #expect(rules.first?.dstPorts.contains { $0.ip.hasPrefix("10.") } == false)
        #expect(try #require(compiled.node(4)).filterRules.isEmpty)
        #expect(compiled.isVisible(3, to: 1))
        #expect(!compiled.isVisible(4, to: 1))
    }
}
