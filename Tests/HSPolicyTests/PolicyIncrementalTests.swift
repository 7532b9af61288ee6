import HSPolicy
import Testing

/// Compares `recompiled(for:)` after a few node changes with a full compilation of the changed tailnet.
@Suite struct PolicyIncrementalTests {
    @Test(arguments: 1...40) func recompileMatchesFullCompile(seed: Int) throws {
        var generator = RandomTailnet(seed: UInt64(seed) &* 7919, nodes: seed % 4 == 0 ? 80 : 30)
        let tailnet = generator.tailnet()
        let text = generator.policy()
        let policy = try Policy.parse(text)
        var compiled = CompiledTailnetPolicy(policy: policy, tailnet: tailnet)
        var current = tailnet
        for step in 1...3 {
            current = generator.changing(current, count: step == 2 ? 2 : 1)
            compiled = compiled.recompiled(for: current)
            let full = CompiledTailnetPolicy(policy: policy, tailnet: current)
            for node in current.nodes {
                let got = try #require(compiled.node(node.id))
                let want = try #require(full.node(node.id))
                let context = "seed \(seed), step \(step), node \(node.id)"
                #expect(got.filterJSON == want.filterJSON, "\(context): filter bytes differ")
                #expect(got.filterRules == want.filterRules, "\(context): filter rules differ")
                #expect(got.visiblePeerIDs == want.visiblePeerIDs, "\(context): visible peers differ")
                #expect(got.sshPolicyJSON == want.sshPolicyJSON, "\(context): SSH policy differs")
                #expect(got.capabilities == want.capabilities, "\(context): capabilities differ")
            }
        }
    }

    static let serverPolicy = #"""
        {"tagOwners": {"tag:server": ["alice@"]},
         "acls": [{"action": "accept", "src": ["alice@"], "dst": ["tag:server:22"]}]}
        """#

    @Test func unchangedTailnetKeepsResult() throws {
        let policy = try Policy.parse(Self.serverPolicy)
        let compiled = CompiledTailnetPolicy(policy: policy, tailnet: SmallTailnet.tailnet)
        let again = compiled.recompiled(for: SmallTailnet.tailnet)
        for id: UInt64 in 1...4 {
            #expect(again.packetFilter(for: id) == compiled.packetFilter(for: id))
            #expect(again.visiblePeers(of: id) == compiled.visiblePeers(of: id))
        }
    }

    @Test func addedNodeCompilesInFull() throws {
        let policy = try Policy.parse(Self.serverPolicy)
        let compiled = CompiledTailnetPolicy(policy: policy, tailnet: SmallTailnet.tailnet)
        var grown = SmallTailnet.tailnet
        grown.nodes.append(SmallTailnet.node(5, "tablet", user: 1))
        let again = compiled.recompiled(for: grown)
        #expect(again.visiblePeers(of: 5) == [4])
        #expect(again.visiblePeers(of: 4) == [1, 2, 5])
    }
}
