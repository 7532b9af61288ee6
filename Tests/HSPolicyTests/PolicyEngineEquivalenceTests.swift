import HSPolicy
import Testing

/// Compares the indexed engine with `ReferenceCompiler` on random tailnets and policies.
@Suite struct PolicyEngineEquivalenceTests {
    @Test(arguments: 1...60) func indexedEngineMatchesReference(seed: Int) throws {
        var generator = RandomTailnet(seed: UInt64(seed), nodes: seed % 3 == 0 ? 90 : 35)
        let tailnet = generator.tailnet()
        let text = generator.policy()
        let policy: Policy
        do {
            policy = try Policy.parse(text)
        } catch {
            Issue.record("seed \(seed): generated policy rejected: \(error.message)\n\(text)")
            return
        }
        let compiled = CompiledTailnetPolicy(policy: policy, tailnet: tailnet)
        let reference = ReferenceCompiler(policy: policy, tailnet: tailnet)
        let filters = reference.filters()
        let peers = reference.visibility()
        for node in tailnet.nodes {
            let own = try #require(compiled.node(node.id))
            let expected = filters[node.id] ?? []
            #expect(own.filterRules == expected, "seed \(seed), node \(node.id): filter rules differ")
            #expect(own.filterJSON == FilterRule.encode(expected), "seed \(seed), node \(node.id): filter bytes differ")
            #expect(own.visiblePeerIDs == peers[node.id] ?? [], "seed \(seed), node \(node.id): visible peers differ")
            for peer in tailnet.nodes where peer.id != node.id {
                #expect(compiled.isVisible(peer.id, to: node.id) == (peers[node.id] ?? []).contains(peer.id))
            }
        }
    }
}
