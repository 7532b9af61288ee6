@testable import HSPolicy

/// The straightforward per-node compilation the indexed engine replaced: every node walks every
/// rule slot, merges by sorted source text, and peers come from scanning every node as a source.
/// It shares rule building (`FilterCompiler`) with the engine and checks everything after it.
struct ReferenceCompiler {
    let resolver: AliasResolver
    let slots: [RuleSlot]

    init(policy: Policy, tailnet: PolicyTailnet) {
        resolver = AliasResolver(policy: policy, tailnet: tailnet)
        slots = FilterCompiler(resolver: resolver).compile()
    }

    /// Returns each node's filter rules, in the engine's wire form.
    func filters() -> [UInt64: [FilterRule]] {
        var result: [UInt64: [FilterRule]] = [:]
        for (position, node) in resolver.tailnet.nodes.enumerated() {
            result[node.id] = reduce(node, position: position).map { ReferenceCompiler.wireRule($0) }
        }
        return result
    }

    /// Returns each node's visible peers.
    func visibility() -> [UInt64: Set<UInt64>] {
        var result: [UInt64: Set<UInt64>] = [:]
        for (position, destination) in resolver.tailnet.nodes.enumerated() {
            for rule in reduce(destination, position: position) {
                for source in resolver.tailnet.nodes where source.id != destination.id && isSource(source, rule) {
                    result[destination.id, default: []].insert(source.id)
                    result[source.id, default: []].insert(destination.id)
                }
            }
        }
        return result
    }

    private func isSource(_ node: PolicyNode, _ rule: CompiledRule) -> Bool {
        rule.sources.contains { entry in
            node.addresses.contains(where: entry.contains) || node.approvedSubnetRoutes.contains(where: entry.overlaps)
        }
    }

    private func reduce(_ node: PolicyNode, position: Int) -> [CompiledRule] {
        let target = ReductionTarget(node: node)
        var kept: [CompiledRule] = []
        for slot in slots {
            var rule: CompiledRule
            switch slot {
            case .shared(let shared):
                rule = shared
            case .perUser(let byUser):
                guard !node.isTagged, let owner = node.userID, let own = byUser[owner] else { continue }
                rule = own
            case .perNode(let byNode):
                guard let own = byNode[position] else { continue }
                rule = own
            }
            if rule.isCapabilityRule {
                if rule.capabilityDestinations.contains(where: { target.concerns($0, isInternet: false) }) {
                    kept.append(rule)
                }
                continue
            }
            rule.destinations = rule.destinations.filter { target.concerns($0.entry, isInternet: $0.isInternet) }
            if !rule.destinations.isEmpty { kept.append(rule) }
        }
        var merged: [CompiledRule] = []
        var indexByKey: [[String]: Int] = [:]
        for rule in kept {
            guard !rule.isCapabilityRule else {
                merged.append(rule)
                continue
            }
            let key = rule.sources.map(\.text).sorted() + ["|"] + rule.protocols.map(String.init)
            if let index = indexByKey[key] {
                merged[index].destinations += rule.destinations
            } else {
                indexByKey[key] = merged.count
                merged.append(rule)
            }
        }
        return merged
    }

    private static func wireRule(_ rule: CompiledRule) -> FilterRule {
        RuleTable.wireRule(rule, destinations: rule.destinations.indices.map(Int32.init))
    }
}
