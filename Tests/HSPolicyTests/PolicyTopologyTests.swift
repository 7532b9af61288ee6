import HSCore
import HSPolicy
import Testing

@Suite struct PolicyTopologyTests {
    static let users = """
        "users": [{"id": 1, "name": "alice", "email": "alice@example.com"},
                  {"id": 2, "name": "bob", "email": "bob@example.com"}]
        """

    /// Parses a topology made of the two standard users and `nodes` (the text of a JSON list).
    static func parse(nodes: String) throws(PolicyError) -> PolicyTopology {
        try PolicyTopology.parse("{\(users), \"nodes\": \(nodes)}")
    }

    /// Returns the message of the error that parsing `nodes` throws, or nil when it parses.
    static func error(nodes: String) -> String? {
        do {
            _ = try parse(nodes: nodes)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func nodesNumberedInCreatedOrder() throws {
        let topology = try Self.parse(
            nodes: """
                [{"name": "late", "user": "alice", "ipv4": "100.64.0.1", "created": "2026-01-02T03:04:05.5Z"},
                 {"name": "early", "user": "bob", "ipv4": "100.64.0.2", "created": "2026-01-02T03:04:05Z"},
                 {"name": "middle", "tags": ["tag:server"], "ipv6": "fd7a:115c:a1e0::3",
                  "created": "2026-01-02T03:04:05.25Z"}]
                """
        )
        #expect(topology.nodes.map(\.hostname) == ["early", "middle", "late"])
        #expect(topology.nodes.map(\.id) == [1, 2, 3])
        #expect(topology.node(named: "early")?.userID == 2)
        #expect(topology.node(named: "middle")?.tags == ["tag:server"])
        #expect(topology.node(named: "middle")?.ipv4 == nil)
    }

    @Test func fileOrderWithoutCreated() throws {
        let topology = try Self.parse(
            nodes: #"[{"name": "b", "ipv4": "100.64.0.2"}, {"name": "a", "ipv4": "100.64.0.1"}]"#
        )
        #expect(topology.nodes.map(\.hostname) == ["b", "a"])
        #expect(topology.nodes.map(\.id) == [1, 2])
    }

    @Test func routesRead() throws {
        let topology = try Self.parse(
            nodes: """
                [{"name": "router", "tags": ["tag:router"], "ipv4": "100.64.0.1",
                  "routable_ips": ["10.0.0.0/8", "0.0.0.0/0", "::/0"], "approved_routes": ["10.0.0.0/8"]}]
                """
        )
        let router = try #require(topology.node(named: "router"))
        #expect(router.advertisedRoutes.map(\.description) == ["10.0.0.0/8", "0.0.0.0/0", "::/0"])
        #expect(router.approvedRoutes.map(\.description) == ["10.0.0.0/8"])
    }

    @Test func usersWithoutIDNumbered() throws {
        let topology = try PolicyTopology.parse(
            #"{"users": [{"name": "alice"}, {"name": "bob", "email": "bob@example.com"}], "nodes": []}"#
        )
        #expect(topology.users.map(\.id) == [1, 2])
        #expect(topology.users.map(\.email) == ["", "bob@example.com"])
    }

    @Test func missingNodeNameRejected() throws {
        let message = try #require(Self.error(nodes: #"[{"name": "a", "ipv4": "100.64.0.1"}, {"ipv4": "100.64.0.2"}]"#))
        #expect(message.contains("nodes[1]"))
        #expect(message.contains("missing \"name\""))
    }

    @Test func badAddressRejected() throws {
        let message = try #require(Self.error(nodes: #"[{"name": "laptop", "ipv4": "100.64.0.300"}]"#))
        #expect(message.contains("node \"laptop\""))
        #expect(message.contains("\"ipv4\" value \"100.64.0.300\""))
    }

    @Test func addressFamilyChecked() throws {
        let message = try #require(Self.error(nodes: #"[{"name": "laptop", "ipv6": "100.64.0.1"}]"#))
        #expect(message.contains("is not an IPv6 address"))
    }

    @Test func nodeWithoutAddressRejected() throws {
        let message = try #require(Self.error(nodes: #"[{"name": "laptop", "user": "alice"}]"#))
        #expect(message.contains("node \"laptop\": missing \"ipv4\" and \"ipv6\""))
    }

    @Test func duplicateNameRejected() throws {
        let message = try #require(
            Self.error(nodes: #"[{"name": "laptop", "ipv4": "100.64.0.1"}, {"name": "laptop", "ipv4": "100.64.0.2"}]"#)
        )
        #expect(message.contains("node \"laptop\" is listed twice"))
    }

    @Test func duplicateAddressRejected() throws {
        let message = try #require(
            Self.error(nodes: #"[{"name": "a", "ipv4": "100.64.0.1"}, {"name": "b", "ipv4": "100.64.0.1"}]"#)
        )
        #expect(message.contains("node \"b\": address 100.64.0.1 is also node \"a\"'s"))
    }

    @Test func unknownUserRejected() throws {
        let message = try #require(Self.error(nodes: #"[{"name": "laptop", "user": "carol", "ipv4": "100.64.0.1"}]"#))
        #expect(message.contains("node \"laptop\": user \"carol\" is not in \"users\""))
        #expect(message.contains("\"alice\", \"bob\""))
    }

    @Test func unadvertisedApprovalRejected() throws {
        let message = try #require(
            Self.error(nodes: #"[{"name": "r", "ipv4": "100.64.0.1", "approved_routes": ["10.0.0.0/8"]}]"#)
        )
        #expect(message.contains("approved route 10.0.0.0/8 is not in \"routable_ips\""))
    }

    @Test func nonCanonicalRouteRejected() throws {
        let message = try #require(
            Self.error(nodes: #"[{"name": "r", "ipv4": "100.64.0.1", "routable_ips": ["10.1.2.3/8"]}]"#)
        )
        #expect(message.contains("\"10.1.2.3/8\" is not in canonical form; write 10.0.0.0/8"))
    }

    @Test func badTagRejected() throws {
        let message = try #require(Self.error(nodes: #"[{"name": "s", "ipv4": "100.64.0.1", "tags": ["server"]}]"#))
        #expect(message.contains("node \"s\": tag \"server\" is invalid"))
    }

    @Test func partialCreatedRejected() throws {
        let message = try #require(
            Self.error(
                nodes: """
                    [{"name": "a", "ipv4": "100.64.0.1", "created": "2026-01-02T03:04:05Z"},
                     {"name": "b", "ipv4": "100.64.0.2"}]
                    """
            )
        )
        #expect(message.contains("node \"b\": missing \"created\""))
    }

    @Test func badCreatedRejected() throws {
        let message = try #require(Self.error(nodes: #"[{"name": "a", "ipv4": "100.64.0.1", "created": "yesterday"}]"#))
        #expect(message.contains("\"created\" value \"yesterday\" is not an RFC 3339 time"))
    }

    @Test func duplicateUserIDRejected() throws {
        do {
            _ = try PolicyTopology.parse(#"{"users": [{"id": 1, "name": "a"}, {"id": 1, "name": "b"}], "nodes": []}"#)
            Issue.record("duplicate user id accepted")
        } catch {
            #expect(error.message.contains("user \"b\": id 1 is used by another user"))
        }
    }

    @Test func policyInsteadOfTopologyRejected() throws {
        do {
            _ = try PolicyTopology.parse(#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}]}"#)
            Issue.record("a policy was accepted as a topology")
        } catch {
            #expect(error.message.contains("topology has no \"nodes\" list"))
        }
    }

    @Test func invalidJSONRejected() throws {
        do {
            _ = try PolicyTopology.parse(#"{"nodes": [}"#)
            Issue.record("invalid JSON accepted")
        } catch {
            #expect(error.message.hasPrefix("topology is not valid JSON"))
        }
    }
}
