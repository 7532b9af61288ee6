import HSCore
import HSPolicy
import Testing

/// A small tailnet: alice owns laptop (1) and phone (2), bob owns desktop (3), server (4) is tagged
/// and routes 10.1.0.0/16.
enum SmallTailnet {
    static let users = [
        PolicyUser(id: 1, name: "alice", email: "alice@example.com"),
        PolicyUser(id: 2, name: "bob", email: "bob@example.org"),
    ]

    static func node(_ id: UInt64, _ name: String, user: UInt64?, tags: [String] = [], routes: [String] = [])
        -> PolicyNode
    {
        PolicyNode(
            id: id,
            hostname: name,
            ipv4: IPAddress("100.64.0.\(id)"),
            ipv6: IPAddress("fd7a:115c:a1e0::\(id)"),
            userID: user,
            tags: tags,
            advertisedRoutes: routes.compactMap { IPPrefix($0) },
            approvedRoutes: routes.compactMap { IPPrefix($0) }
        )
    }

    static let tailnet = PolicyTailnet(
        users: users,
        nodes: [
            node(1, "laptop", user: 1), node(2, "phone", user: 1), node(3, "desktop", user: 2),
            node(4, "server", user: nil, tags: ["tag:server"], routes: ["10.1.0.0/16"]),
        ],
        serverURL: "https://hs.example.com"
    )

    static func compile(_ text: String) throws -> CompiledTailnetPolicy {
        CompiledTailnetPolicy(policy: try Policy.parse(text), tailnet: tailnet)
    }
}

@Suite struct PolicyCompileTests {
    @Test func missingPolicyAllowsAll() throws {
        let compiled = CompiledTailnetPolicy(policy: nil, tailnet: SmallTailnet.tailnet)
        let laptop = try #require(compiled.node(1))
        #expect(
            String(decoding: laptop.filterJSON, as: UTF8.self)
                == #"[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]"#
        )
        #expect(laptop.visiblePeerIDs == [2, 3, 4])
        #expect(laptop.sshPolicyJSON == nil)
        #expect(compiled.allowsAll)
        #expect(compiled.visiblePeers(of: 1) == nil)
        #expect(compiled.packetFilter(for: 1) == laptop.filterJSON)
    }

    @Test func emptyGrantsDenyAll() throws {
        let compiled = try SmallTailnet.compile(#"{"grants": []}"#)
        let laptop = try #require(compiled.node(1))
        #expect(laptop.filterRules.isEmpty)
        #expect(String(decoding: laptop.filterJSON, as: UTF8.self) == "[]")
        #expect(laptop.visiblePeerIDs.isEmpty)
    }

    @Test func tagRuleReachesOnlyTaggedNode() throws {
        let compiled = try SmallTailnet.compile(
            #"{"tagOwners": {"tag:server": ["alice@"]}, "acls": [{"action": "accept", "src": ["alice@example.com"], "dst": ["tag:server:22"], "proto": "tcp"}]}"#
        )
        let server = try #require(compiled.node(4))
        #expect(
            server.filterRules == [
                FilterRule(
                    srcIPs: ["100.64.0.1", "fd7a:115c:a1e0::1", "100.64.0.2", "fd7a:115c:a1e0::2"],
                    dstPorts: [
                        FilterDestination(ip: "100.64.0.4", ports: PortRange(first: 22, last: 22)),
                        FilterDestination(ip: "fd7a:115c:a1e0::4", ports: PortRange(first: 22, last: 22)),
                    ],
                    ipProto: [6]
                )
            ]
        )
        #expect(try #require(compiled.node(1)).filterRules.isEmpty)
        #expect(server.visiblePeerIDs == [1, 2])
        #expect(try #require(compiled.node(1)).visiblePeerIDs == [4])
        #expect(try #require(compiled.node(3)).visiblePeerIDs.isEmpty)
        #expect(!compiled.allowsAll)
        #expect(compiled.visiblePeers(of: 3) == [])
        #expect(compiled.packetFilter(for: 99) == Array("[]".utf8))
        #expect(compiled.sshPolicy(for: 4) == nil)
    }

    @Test func wildcardSourceIncludesRoutes() throws {
        let compiled = try SmallTailnet.compile(#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["bob@:80"]}]}"#)
        let desktop = try #require(compiled.node(3))
        #expect(
            desktop.filterRules.first?.srcIPs == [
                "100.64.0.0-100.115.91.255", "100.115.94.0-100.127.255.255", "fd7a:115c:a1e0::/48", "10.1.0.0/16",
            ]
        )
    }

    @Test func subnetDestinationGoesToRouter() throws {
        let compiled = try SmallTailnet.compile(
            #"{"hosts": {"lan": "10.1.2.0/24"}, "acls": [{"action": "accept", "src": ["bob@"], "dst": ["lan:443"]}]}"#
        )
        #expect(try #require(compiled.node(4)).filterRules.first?.dstPorts.map(\.ip) == ["10.1.2.0/24"])
        #expect(try #require(compiled.node(3)).visiblePeerIDs == [4])
    }

    @Test func selfRulePerUser() throws {
        let compiled = try SmallTailnet.compile(
            #"{"acls": [{"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self:*"]}]}"#
        )
        let phone = try #require(compiled.node(2))
        #expect(phone.filterRules.count == 1)
        #expect(
            phone.filterRules.first?.srcIPs == ["100.64.0.1", "fd7a:115c:a1e0::1", "100.64.0.2", "fd7a:115c:a1e0::2"]
        )
        #expect(phone.filterRules.first?.dstPorts.map(\.ip) == ["100.64.0.2", "fd7a:115c:a1e0::2"])
        #expect(phone.visiblePeerIDs == [1])
        #expect(try #require(compiled.node(4)).filterRules.isEmpty)
    }

    @Test func sshCheckRuleJSON() throws {
        let compiled = try SmallTailnet.compile(
            #"{"tagOwners": {"tag:server": ["alice@"]}, "ssh": [{"action": "check", "src": ["bob@"], "dst": ["tag:server"], "users": ["autogroup:nonroot"], "acceptEnv": ["LANG"]}]}"#
        )
        let json = try #require(compiled.node(4)?.sshPolicyJSON)
        let expected =
            #"{"rules":[{"principals":[{"nodeIP":"100.64.0.3"},{"nodeIP":"fd7a:115c:a1e0::3"}],"#
            + #""sshUsers":{"*":"=","root":""},"action":{"holdAndDelegate":"https://hs.example.com/machine/ssh/action/"#
            + #"$SRC_NODE_ID/to/$DST_NODE_ID?local_user=$LOCAL_USER"},"acceptEnv":["LANG"]}]}"#
        #expect(String(decoding: json, as: UTF8.self) == expected)
        #expect(try #require(compiled.node(1)).sshPolicyJSON == nil)
    }

    @Test func nodeAttrsBecomeCapabilities() throws {
        let compiled = try SmallTailnet.compile(
            #"{"nodeAttrs": [{"target": ["alice@"], "attr": ["magicdns-aaaa", "nextdns:abc"]}], "randomizeClientPort": true}"#
        )
        let laptop = try #require(compiled.node(1))
        #expect(laptop.capabilities.keys.sorted() == ["magicdns-aaaa", "nextdns:abc", "randomize-client-port"])
        #expect(try #require(compiled.node(3)).capabilities.keys.sorted() == ["randomize-client-port"])
    }

    @Test func appGrantProducesCapGrant() throws {
        let compiled = try SmallTailnet.compile(
            #"{"grants": [{"src": ["bob@"], "dst": ["alice@"], "app": {"example.com/cap/web": [{"role": "admin"}]}}]}"#
        )
        let laptop = try #require(compiled.node(1))
        let json = String(decoding: laptop.filterJSON, as: UTF8.self)
        #expect(json.contains(#""CapGrant":[{"Dsts":["100.64.0.1/32","fd7a:115c:a1e0::1/128","100.64.0.2/32","#))
        #expect(json.contains(#""CapMap":{"example.com/cap/web":[{"role":"admin"}]}"#))
        #expect(try #require(compiled.node(3)).filterRules.isEmpty)
    }

    @Test func routeAutoApproval() throws {
        let policy = try Policy.parse(
            #"{"tagOwners": {"tag:server": ["alice@"]}, "autoApprovers": {"routes": {"10.0.0.0/8": ["tag:server"]}, "exitNode": ["bob@"]}}"#
        )
        let server = SmallTailnet.node(
            4,
            "server",
            user: nil,
            tags: ["tag:server"],
            routes: ["10.1.0.0/16", "192.168.0.0/24", "0.0.0.0/0"]
        )
        #expect(policy.autoApprovedRoutes(for: server, users: SmallTailnet.users).map(\.description) == ["10.1.0.0/16"])
        let desktop = SmallTailnet.node(3, "desktop", user: 2, routes: ["0.0.0.0/0", "::/0", "10.2.0.0/16"])
        #expect(
            policy.autoApprovedRoutes(for: desktop, users: SmallTailnet.users).map(\.description) == [
                "0.0.0.0/0", "::/0",
            ]
        )
    }
}
