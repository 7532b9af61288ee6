/// Compiles every node's policy from the tailnet-wide rule slots.
///
/// Rule sources are resolved once per rule (in `FilterCompiler`). Each node then reads only the
/// rules that `DestinationIndex` lists for its addresses and routes, merges them, and encodes its
/// filter from fragments the `RuleTable` encoded once. Peer visibility comes from the same reduced
/// rules as bit sets of node positions.
struct TailnetReducer {
    let resolver: AliasResolver

    func compileNodes() -> [UInt64: CompiledNodePolicy] {
        let slots = FilterCompiler(resolver: resolver).compile()
        let ids = TailnetReducer.ruleTable(slots)
        let table = ids.table
        let index = DestinationIndex(slots: slots)
        let nodes = resolver.tailnet.nodes
        var filters: [NodeFilter] = []
        var rows: [NodeBitSet] = []
        filters.reserveCapacity(nodes.count)
        rows.reserveCapacity(nodes.count)
        for (position, node) in nodes.enumerated() {
            let parts = reduce(node, position: position, index: index, ids: ids)
            let merged = TailnetReducer.merge(parts, table: table)
            var row = NodeBitSet(count: nodes.count)
            for rule in merged {
                row.formUnion(table.rules[Int(rule[0].rule)].sourceNodes)
            }
            row.remove(position)
            rows.append(row)
            filters.append(.reduced(merged, table))
        }
        let visibility = TailnetReducer.symmetric(rows)
        let ssh = SSHCompiler(resolver: resolver)
        let nodeIDs = nodes.map(\.id)
        var result: [UInt64: CompiledNodePolicy] = [:]
        result.reserveCapacity(nodes.count)
        for (position, node) in nodes.enumerated() {
            result[node.id] = CompiledNodePolicy(
                filterJSON: filters[position].encode(),
                sshRules: ssh.rules(for: node),
                filter: filters[position],
                visibility: visibility[position],
                nodeIDs: nodeIDs,
                capabilities: CompiledTailnetPolicy.capabilities(resolver: resolver, node: node)
            )
        }
        return result
    }

    /// Numbers every rule of `slots`: the id of each shared slot's rule, and of each user's rule in a
    /// per-user slot.
    static func ruleTable(_ slots: [RuleSlot]) -> RuleIDs {
        var rules: [CompiledRule] = []
        var ids = RuleIDs()
        for slot in slots {
            ids.shared.append(-1)
            ids.perUser.append([:])
            ids.perNode.append([:])
            switch slot {
            case .shared(let rule):
                ids.shared[ids.shared.count - 1] = Int32(rules.count)
                rules.append(rule)
            case .perUser(let byUser):
                for (user, rule) in byUser {
                    ids.perUser[ids.perUser.count - 1][user] = Int32(rules.count)
                    rules.append(rule)
                }
            case .perNode(let byNode):
                for (position, rule) in byNode {
                    ids.perNode[ids.perNode.count - 1][position] = Int32(rules.count)
                    rules.append(rule)
                }
            }
        }
        ids.table = RuleTable(rules: rules)
        return ids
    }

    /// Rule ids by slot: the shared rule (-1 for none), each user's rule, each node's rule.
    struct RuleIDs {
        var table = RuleTable(rules: [])
        var shared: [Int32] = []
        var perUser: [[UInt64: Int32]] = []
        var perNode: [[Int: Int32]] = []
    }

    /// Returns the rules, and inside them the destinations, that concern `node`, in slot order.
    private func reduce(_ node: PolicyNode, position: Int, index: DestinationIndex, ids: RuleIDs) -> [NodeRulePart] {
        let target = ReductionTarget(node: node)
        var parts: [(slot: Int, part: NodeRulePart)] = []
        var current = -1
        var kept: [Int32] = []
        func flush() {
            guard current >= 0 else { return }
            parts.append((current, NodeRulePart(rule: ids.shared[current], destinations: kept)))
            kept = []
        }
        for hit in index.hits(for: target) {
            let slot = Int(hit >> 32)
            if slot != current {
                flush()
                current = slot
            }
            let destination = Int32(truncatingIfNeeded: hit & 0xFFFF_FFFF) - 1
            if destination >= 0 { kept.append(destination) }
        }
        flush()
        func appendOwn(_ id: Int32, slot: Int) {
            let rule = ids.table.rules[Int(id)]
            let destinations = rule.destinations.indices.filter {
                target.concerns(rule.destinations[$0].entry, isInternet: rule.destinations[$0].isInternet)
            }
            if !destinations.isEmpty {
                parts.append((slot, NodeRulePart(rule: id, destinations: destinations.map(Int32.init))))
            }
        }
        let sharedCount = parts.count
        if let owner = node.userID, !node.isTagged {
            for slot in index.perUserSlots {
                if let id = ids.perUser[slot][owner] { appendOwn(id, slot: slot) }
            }
        }
        for slot in index.perNodeSlots {
            if let id = ids.perNode[slot][position] { appendOwn(id, slot: slot) }
        }
        if parts.count > sharedCount {
            parts.sort { $0.slot < $1.slot }
        }
        return parts.map(\.part)
    }

    /// Merges IP rules with equal sources and protocols into the first of them, keeping duplicate
    /// destinations, as Tailscale's control plane does.
    static func merge(_ parts: [NodeRulePart], table: RuleTable) -> [[NodeRulePart]] {
        var result: [[NodeRulePart]] = []
        var indexByKey: [Int: Int] = [:]
        for part in parts {
            let rule = table.rules[Int(part.rule)]
            guard !rule.isCapabilityRule else {
                result.append([part])
                continue
            }
            if let index = indexByKey[rule.mergeKey] {
                result[index].append(part)
            } else {
                indexByKey[rule.mergeKey] = result.count
                result.append([part])
            }
        }
        return result
    }

    /// Two nodes see each other when either one's reduced filter admits the other as a source:
    /// returns each row joined with its column.
    static func symmetric(_ rows: [NodeBitSet]) -> [NodeBitSet] {
        var result = rows
        for (position, row) in rows.enumerated() {
            row.forEach { result[$0].insert(position) }
        }
        return result
    }
}
