import HSCore
import HSPolicy
import Testing

@Suite struct PolicyEvaluatorTests {
    /// Two routers for 10.0.0.0/8 (the older one also an exit node), alice's laptop and bob's phone.
    static let topology = """
        {"users": [{"id": 1, "name": "alice", "email": "alice@example.com"},
                   {"id": 2, "name": "bob", "email": "bob@example.com"}],
         "nodes": [
           {"name": "laptop", "user": "alice", "ipv4": "100.64.0.3", "ipv6": "fd7a:115c:a1e0::3",
            "created": "2026-01-01T00:00:03Z"},
           {"name": "phone", "user": "bob", "ipv4": "100.64.0.4", "ipv6": "fd7a:115c:a1e0::4",
            "created": "2026-01-01T00:00:04Z"},
           {"name": "router", "tags": ["tag:router"], "ipv4": "100.64.0.1", "ipv6": "fd7a:115c:a1e0::1",
            "routable_ips": ["10.0.0.0/8", "0.0.0.0/0", "::/0"],
            "approved_routes": ["10.0.0.0/8", "0.0.0.0/0", "::/0"], "created": "2026-01-01T00:00:01Z"},
           {"name": "standby", "tags": ["tag:router"], "ipv4": "100.64.0.2", "ipv6": "fd7a:115c:a1e0::2",
            "routable_ips": ["10.0.0.0/8"], "approved_routes": ["10.0.0.0/8"], "created": "2026-01-01T00:00:02Z"}]}
        """

    /// Alice may use the subnet and SSH into the routers. Bob may reach only port 80 on the routers' own
    /// addresses and port 443 on alice's laptop.
    static let policy = """
        {"tagOwners": {"tag:router": ["alice@example.com"]},
         "acls": [{"action": "accept", "src": ["alice@example.com"], "dst": ["10.0.0.0/8:22", "tag:router:*"]},
                  {"action": "accept", "src": ["bob@example.com"], "dst": ["tag:router:80", "alice@example.com:443"]}],
         "ssh": [{"action": "accept", "src": ["alice@example.com"], "dst": ["tag:router"], "users": ["root"]}]}
        """

    static func evaluate(_ policy: String = policy) throws -> JSONValue {
        try PolicyEvaluator.evaluate(policy: policy, topology: PolicyTopology.parse(topology))
    }

    static func strings(_ value: JSONValue?) -> [String] {
        (value?.arrayValue ?? []).compactMap(\.stringValue)
    }

    static func peer(_ name: String, of node: String, in output: JSONValue) -> JSONValue? {
        output["nodes"]?[node]?["peers"]?.arrayValue?.first { $0["name"]?.stringValue == name }
    }

    @Test func everyNodeListedByName() throws {
        guard case .object(let nodes) = try Self.evaluate()["nodes"] ?? .null else {
            Issue.record("output has no \"nodes\" object")
            return
        }
        #expect(nodes.map(\.0) == ["laptop", "phone", "router", "standby"])
    }

    @Test func earliestRouterIsPrimary() throws {
        let output = try Self.evaluate()
        #expect(Self.strings(output["nodes"]?["router"]?["primary_routes"]) == ["10.0.0.0/8"])
        #expect(output["nodes"]?["standby"]?["primary_routes"] == nil)
    }

    @Test func peersSortedByName() throws {
        let output = try Self.evaluate()
        let laptopPeers = (output["nodes"]?["laptop"]?["peers"]?.arrayValue ?? []).compactMap {
            $0["name"]?.stringValue
        }
        #expect(laptopPeers == ["phone", "router", "standby"])
        let phonePeers = (output["nodes"]?["phone"]?["peers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        #expect(phonePeers == ["laptop", "router", "standby"])
    }

    @Test func usableRouteInAllowedIPs() throws {
        let router = try #require(Self.peer("router", of: "laptop", in: try Self.evaluate()))
        #expect(
            Self.strings(router["allowed_ips"]) == [
                "100.64.0.1/32", "fd7a:115c:a1e0::1/128", "10.0.0.0/8", "0.0.0.0/0", "::/0",
            ]
        )
        #expect(Self.strings(router["primary_routes"]) == ["10.0.0.0/8"])
    }

    @Test func unreachableRouteLeftOut() throws {
        let router = try #require(Self.peer("router", of: "phone", in: try Self.evaluate()))
        #expect(Self.strings(router["allowed_ips"]) == ["100.64.0.1/32", "fd7a:115c:a1e0::1/128", "0.0.0.0/0", "::/0"])
        #expect(router["primary_routes"] == nil)
    }

    @Test func standbyServesNoRoutes() throws {
        let standby = try #require(Self.peer("standby", of: "laptop", in: try Self.evaluate()))
        #expect(Self.strings(standby["allowed_ips"]) == ["100.64.0.2/32", "fd7a:115c:a1e0::2/128"])
    }

    @Test func filtersAndSSHRulesPerNode() throws {
        let output = try Self.evaluate()
        let routerRules = try #require(output["nodes"]?["router"]?["packet_filter_rules"]?.arrayValue)
        #expect(routerRules.contains { Self.strings($0["SrcIPs"]).contains("100.64.0.3") })
        #expect(output["nodes"]?["phone"]?["packet_filter_rules"] == .null)
        let sshRules = try #require(output["nodes"]?["router"]?["ssh_rules"]?.arrayValue)
        #expect(sshRules.count == 1)
        #expect(sshRules.first?["sshUsers"]?["root"] == .string("root"))
        #expect(output["nodes"]?["laptop"]?["ssh_rules"] == .null)
    }

    @Test func invalidPolicyRejected() throws {
        #expect(throws: PolicyError.self) {
            try Self.evaluate(#"{"acls": [{"action": "accept", "src": ["group:missing"], "dst": ["*:*"]}]}"#)
        }
    }

    @Test func failingTestBlockRejected() throws {
        let policy = """
            {"acls": [{"action": "accept", "src": ["alice@example.com"], "dst": ["*:*"]}],
             "tests": [{"src": "bob@example.com", "accept": ["alice@example.com:22"]}]}
            """
        do {
            _ = try Self.evaluate(policy)
            Issue.record("policy with a failing test accepted")
        } catch let error as PolicyError {
            #expect(error.message.contains("test(s) failed"))
        }
    }

    @Test func allowAllSeesEveryone() throws {
        let output = try Self.evaluate("{}")
        let peers = (output["nodes"]?["phone"]?["peers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        #expect(peers == ["laptop", "router", "standby"])
        let router = try #require(Self.peer("router", of: "phone", in: output))
        #expect(Self.strings(router["primary_routes"]) == ["10.0.0.0/8"])
    }

    @Test func nodeAttrsFillCapMap() throws {
        let policy = """
            {"tagOwners": {"tag:router": ["alice@example.com"]},
             "acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}],
             "nodeAttrs": [{"target": ["alice@example.com"], "attr": ["magicdns-aaaa", "nextdns:abc"]}]}
            """
        let output = try Self.evaluate(policy)
        let expected: JSONValue = .object([("magicdns-aaaa", .null), ("nextdns:abc", .null)])
        #expect(output["nodes"]?["laptop"]?["cap_map"] == expected)
        #expect(output["nodes"]?["phone"]?["cap_map"] == .null)
    }

    @Test func randomizedPortReachesEveryNode() throws {
        let policy = """
            {"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}], "randomizeClientPort": true}
            """
        let output = try Self.evaluate(policy)
        for name in ["laptop", "phone", "router", "standby"] {
            #expect(output["nodes"]?[name]?["cap_map"] == .object([("randomize-client-port", .null)]))
        }
    }
}

/// `via` grants in the evaluator's output: a steered viewer sees a route on its via router.
@Suite struct PolicyEvaluatorViaTests {
    /// Routers for 10.0.0.0/8 tagged tag:a (registered first, so primary) and tag:b, an exit node
    /// tagged tag:b, and alice's laptop.
    static let topology = """
        {"users": [{"id": 1, "name": "alice", "email": "alice@example.com"}],
         "nodes": [
           {"name": "router-a", "tags": ["tag:a"], "ipv4": "100.64.0.1", "routable_ips": ["10.0.0.0/8"],
            "approved_routes": ["10.0.0.0/8"], "created": "2026-01-01T00:00:01Z"},
           {"name": "router-b", "tags": ["tag:b"], "ipv4": "100.64.0.2", "routable_ips": ["10.0.0.0/8"],
            "approved_routes": ["10.0.0.0/8"], "created": "2026-01-01T00:00:02Z"},
           {"name": "exit-a", "tags": ["tag:a"], "ipv4": "100.64.0.3", "routable_ips": ["0.0.0.0/0", "::/0"],
            "approved_routes": ["0.0.0.0/0", "::/0"], "created": "2026-01-01T00:00:03Z"},
           {"name": "laptop", "user": "alice", "ipv4": "100.64.0.4", "created": "2026-01-01T00:00:04Z"}]}
        """

    static func peerRoutes(_ grants: String) throws -> [String: [String]] {
        let policy = #"{"tagOwners": {"tag:a": ["alice@"], "tag:b": ["alice@"]}, "grants": \#(grants)}"#
        let output = try PolicyEvaluator.evaluate(policy: policy, topology: PolicyTopology.parse(topology))
        var result: [String: [String]] = [:]
        for peer in output["nodes"]?["laptop"]?["peers"]?.arrayValue ?? [] {
            let name = peer["name"]?.stringValue ?? "?"
            result[name] = PolicyEvaluatorTests.strings(peer["allowed_ips"])
        }
        return result
    }

    @Test func unsteeredRouteOnPrimary() throws {
        let peers = try Self.peerRoutes(#"[{"src": ["alice@"], "dst": ["10.0.0.0/8", "tag:a", "tag:b"], "ip": ["*"]}]"#)
        #expect(peers["router-a"] == ["100.64.0.1/32", "10.0.0.0/8"])
        #expect(peers["router-b"] == ["100.64.0.2/32"])
    }

    @Test func steeredRouteMovesToViaRouter() throws {
        let peers = try Self.peerRoutes(
            """
            [{"src": ["alice@"], "dst": ["10.0.0.0/8"], "ip": ["*"], "via": ["tag:b"]},
             {"src": ["alice@"], "dst": ["tag:a", "tag:b"], "ip": ["*"]}]
            """
        )
        #expect(peers["router-a"] == ["100.64.0.1/32"])
        #expect(peers["router-b"] == ["100.64.0.2/32", "10.0.0.0/8"])
    }

    @Test func steeredExitHidesOtherExitNodes() throws {
        let peers = try Self.peerRoutes(
            """
            [{"src": ["alice@"], "dst": ["autogroup:internet"], "ip": ["*"], "via": ["tag:b"]},
             {"src": ["alice@"], "dst": ["tag:a", "tag:b"], "ip": ["*"]}]
            """
        )
        #expect(peers["exit-a"] == ["100.64.0.3/32"])
    }
}
