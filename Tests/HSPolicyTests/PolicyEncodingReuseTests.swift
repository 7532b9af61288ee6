import HSPolicy
import Testing

/// Checks that filters `recompiled(for:)` builds from reused encoded rules equal a full compilation.
@Suite struct PolicyEncodingReuseTests {
    /// Rules 0 to 2 merge (same sources), and so do rules 4 and 5, whose sources differ only in
    /// order: the merged rule keeps rule 4's order. Moving a node between `tag:a` and `tag:b`
    /// makes rule 0, the first of its merged rule, dirty while its sources stay the same.
    static let policy = #"""
        {"tagOwners": {"tag:a": ["alice@"], "tag:b": ["alice@"]},
         "acls": [
           {"action": "accept", "src": ["alice@"], "dst": ["tag:a:22"]},
           {"action": "accept", "src": ["alice@"], "dst": ["tag:b:80"]},
           {"action": "accept", "src": ["alice@"], "dst": ["bob@:443"]},
           {"action": "accept", "src": ["bob@"], "dst": ["tag:b:5432"]},
           {"action": "accept", "src": ["alice@", "bob@"], "dst": ["tag:a:8080"]},
           {"action": "accept", "src": ["bob@", "alice@"], "dst": ["tag:b:9090", "bob@:9091"]}
         ]}
        """#

    static let tailnet = PolicyTailnet(
        users: SmallTailnet.users,
        nodes: [
            SmallTailnet.node(1, "laptop", user: 1), SmallTailnet.node(2, "phone", user: 1),
            SmallTailnet.node(3, "desktop", user: 2), SmallTailnet.node(4, "server", user: nil, tags: ["tag:a"]),
            SmallTailnet.node(5, "db", user: nil, tags: ["tag:b"]),
            SmallTailnet.node(6, "web", user: nil, tags: ["tag:b"]), SmallTailnet.node(7, "tablet", user: 2),
        ],
        serverURL: "https://hs.example.com"
    )

    /// Returns `tailnet` with node `id` carrying `tags`. A tagged node belongs to its tags, not its owner.
    static func retag(_ tailnet: PolicyTailnet, _ id: UInt64, _ tags: [String]) -> PolicyTailnet {
        var result = tailnet
        let position = result.nodes.firstIndex { $0.id == id }!
        result.nodes[position].tags = tags
        return result
    }

    static func expectMatchesFullCompile(_ compiled: CompiledTailnetPolicy, _ tailnet: PolicyTailnet, step: String)
        throws
    {
        let full = CompiledTailnetPolicy(policy: try Policy.parse(policy), tailnet: tailnet)
        for node in tailnet.nodes {
            let got = try #require(compiled.node(node.id))
            let want = try #require(full.node(node.id))
            #expect(got.filterJSON == want.filterJSON, "\(step), node \(node.id): filter bytes differ")
            #expect(got.filterRules == want.filterRules, "\(step), node \(node.id): filter rules differ")
            #expect(got.visiblePeerIDs == want.visiblePeerIDs, "\(step), node \(node.id): visible peers differ")
        }
    }

    @Test func retaggingMatchesFullCompile() throws {
        let policy = try Policy.parse(Self.policy)
        var tailnet = Self.tailnet
        var compiled = CompiledTailnetPolicy(policy: policy, tailnet: tailnet)
        // The third step recompiles node 6 against rules encoded two compilations earlier.
        let steps: [(UInt64, [String])] = [(4, ["tag:b"]), (3, ["tag:a"]), (4, ["tag:a"]), (3, []), (5, ["tag:a"])]
        for (index, (id, tags)) in steps.enumerated() {
            tailnet = Self.retag(tailnet, id, tags)
            compiled = compiled.recompiled(for: tailnet)
            try Self.expectMatchesFullCompile(compiled, tailnet, step: "step \(index + 1)")
        }
    }

    /// Compiles the initial tailnet, then recompiles it with node `id` retagged, and checks the
    /// result against a full compilation.
    static func recompileRetagging(_ id: UInt64, _ tags: [String]) throws
        -> (before: CompiledTailnetPolicy, after: CompiledTailnetPolicy)
    {
        let before = CompiledTailnetPolicy(policy: try Policy.parse(policy), tailnet: tailnet)
        let changed = retag(tailnet, id, tags)
        let after = before.recompiled(for: changed)
        try expectMatchesFullCompile(after, changed, step: "node \(id) retagged")
        return (before, after)
    }

    @Test func unchangedFilterSharesBytes() throws {
        let (before, after) = try Self.recompileRetagging(5, ["tag:a"])
        // Node 6 receives parts of the rebuilt merged rules, but none of their changed destinations.
        let old = try #require(before.node(6)).filterJSON
        let new = try #require(after.node(6)).filterJSON
        #expect(new == old)
        let oldAddress = old.withUnsafeBufferPointer { $0.baseAddress }
        let newAddress = new.withUnsafeBufferPointer { $0.baseAddress }
        #expect(newAddress == oldAddress, "node 6's unchanged filter was encoded again")
        #expect(try #require(after.node(5)).filterJSON != (try #require(before.node(5)).filterJSON))
    }

    @Test func partlyChangedFilterMatchesFullCompile() throws {
        // One of Bob's devices becomes tagged: the rules with bob@ sources change, alice@'s stay.
        let (before, after) = try Self.recompileRetagging(3, ["tag:a"])
        let oldRules = try #require(before.node(6)).filterRules
        let newRules = try #require(after.node(6)).filterRules
        #expect(oldRules.first == newRules.first, "alice@'s merged rule should be unchanged on node 6")
        #expect(oldRules != newRules)
    }
}
