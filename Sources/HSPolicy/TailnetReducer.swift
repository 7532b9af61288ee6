/// The intermediate results of one compilation, kept so that the next one can reuse everything a
/// node change cannot affect.
///
/// Immutable once built. Nodes' compiled filters keep referring to the rule table they were built with.
final class CompileState: Sendable {
    let policy: Policy
    let tailnet: PolicyTailnet
    /// The unmerged slots of every policy rule (ACLs, then grants).
    let ruleSlots: [[RuleSlot]]
    let keys: MergeKeyTable
    /// The merged slots, their ids in `index`, their final positions per policy rule, and the
    /// position of each merged rule.
    let slots: [RuleSlot]
    let slotIDs: [Int]
    let positions: [[Int]]
    let positionByKey: [Int: Int]
    let firstPartByKey: [Int: SlotMerger.SlotReference]
    let ids: TailnetReducer.RuleIDs
    let index: DestinationIndex
    /// Directed visibility: row `i` contains the nodes that node `i`'s reduced filter admits as sources.
    let rows: [NodeBitSet]
    /// `rows` joined with its transpose: row `i` contains the peers node `i` may see.
    let visibility: [NodeBitSet]

    init(
        resolver: AliasResolver,
        ruleSlots: [[RuleSlot]],
        keys: MergeKeyTable,
        merged: SlotMerger.Result,
        ids: TailnetReducer.RuleIDs,
        index: DestinationIndex,
        rows: [NodeBitSet],
        visibility: [NodeBitSet]
    ) {
        policy = resolver.policy
        tailnet = resolver.tailnet
        self.ruleSlots = ruleSlots
        self.keys = keys
        slots = merged.slots
        slotIDs = merged.slotIDs
        positions = merged.positions
        positionByKey = merged.positionByKey
        firstPartByKey = merged.firstPartByKey
        self.ids = ids
        self.index = index
        self.rows = rows
        self.visibility = visibility
    }
}

/// Compiles every node's policy from the tailnet-wide rule slots.
///
/// Rule sources are resolved once per rule (in `FilterCompiler`). Each node then reads only the
/// rules that `DestinationIndex` lists for its addresses and routes, merges them, and encodes its
/// filter from fragments the `RuleTable` encoded once. Peer visibility comes from the same reduced
/// rules as bit sets of node positions.
struct TailnetReducer {
    let resolver: AliasResolver

    func compile() -> ([UInt64: CompiledNodePolicy], CompileState) {
        let compiler = FilterCompiler(resolver: resolver)
        let ruleSlots = compiler.ruleSlots()
        let merged = SlotMerger.merge(ruleSlots, reusing: nil)
        let ids = TailnetReducer.ruleIDs(merged.slots, reusing: nil)
        let index = DestinationIndex(slots: merged.slots)

        let nodes = resolver.tailnet.nodes
        var filters: [NodeFilter] = []
        var rows: [NodeBitSet] = []
        filters.reserveCapacity(nodes.count)
        rows.reserveCapacity(nodes.count)
        for position in nodes.indices {
            let (filter, row) = reduce(position, index: index, ids: ids)
            filters.append(filter)
            rows.append(row)
        }
        let visibility = TailnetReducer.symmetric(rows)

        let ssh = SSHCompiler(resolver: resolver)
        let nodeIDs = nodes.map(\.id)
        var result: [UInt64: CompiledNodePolicy] = [:]
        result.reserveCapacity(nodes.count)
        for (position, node) in nodes.enumerated() {
            result[node.id] = CompiledNodePolicy(
                encodedFilter: filters[position].encode(),
                sshRules: ssh.rules(for: node),
                filter: filters[position],
                visibility: visibility[position],
                nodeIDs: nodeIDs,
                capabilities: CompiledTailnetPolicy.capabilities(resolver: resolver, node: node)
            )
        }
        let state = CompileState(
            resolver: resolver,
            ruleSlots: ruleSlots,
            keys: compiler.keys,
            merged: merged,
            ids: ids,
            index: index,
            rows: rows,
            visibility: visibility
        )
        return (result, state)
    }

    /// Rule ids by slot: the shared rule (-1 for none), each user's rule, each node's rule.
    struct RuleIDs: Sendable {
        var table = RuleTable(rules: [])
        var shared: [Int32] = []
        var perUser: [[UInt64: Int32]] = []
        var perNode: [[Int: Int32]] = []
        /// The first `RuleTable.stableIDs` number not yet given to a rule.
        var nextStableID: UInt64 = 0
    }

    /// Numbers every rule of `slots` and builds their table. A slot with an origin in `reuse` takes
    /// its rules and encoded fragments over from the previous table.
    static func ruleIDs(_ slots: [RuleSlot], reusing reuse: (origins: [Int?], previous: RuleIDs)?) -> RuleIDs {
        var rules: [CompiledRule] = []
        var heads: [[UInt8]] = []
        var tails: [[UInt8]] = []
        var stableIDs: [UInt64] = []
        var ids = RuleIDs()
        ids.nextStableID = reuse?.previous.nextStableID ?? 0
        func add(_ rule: CompiledRule, previousID: Int32?) -> Int32 {
            if let previousID, let table = reuse?.previous.table {
                heads.append(table.heads[Int(previousID)])
                tails.append(table.tails[Int(previousID)])
                stableIDs.append(table.stableIDs[Int(previousID)])
            } else {
                let fragments = RuleTable.fragments(rule)
                heads.append(fragments.head)
                tails.append(fragments.tail)
                stableIDs.append(ids.nextStableID)
                ids.nextStableID += 1
            }
            rules.append(rule)
            return Int32(rules.count - 1)
        }
        for (position, slot) in slots.enumerated() {
            let origin = reuse?.origins[position] ?? nil
            ids.shared.append(-1)
            ids.perUser.append([:])
            ids.perNode.append([:])
            switch slot {
            case .shared(let rule):
                ids.shared[position] = add(rule, previousID: origin.map { reuse!.previous.shared[$0] })
            case .perUser(let byUser):
                for (user, rule) in byUser {
                    ids.perUser[position][user] = add(
                        rule,
                        previousID: origin.flatMap { reuse!.previous.perUser[$0][user] }
                    )
                }
            case .perNode(let byNode):
                for (node, rule) in byNode {
                    ids.perNode[position][node] = add(
                        rule,
                        previousID: origin.flatMap { reuse!.previous.perNode[$0][node] }
                    )
                }
            }
        }
        ids.table = RuleTable(rules: rules, heads: heads, tails: tails, stableIDs: stableIDs)
        return ids
    }

    /// Reduces, merges and encodes the filter of the node at `position`, and returns it with the
    /// node's visibility row (the nodes its filter admits as sources).
    func reduce(_ position: Int, index: DestinationIndex, ids: RuleIDs) -> (NodeFilter, NodeBitSet) {
        let nodes = resolver.tailnet.nodes
        let parts = reduce(nodes[position], position: position, index: index, ids: ids)
        let merged = TailnetReducer.merge(parts, table: ids.table)
        var row = NodeBitSet(count: nodes.count)
        for rule in merged {
            row.formUnion(ids.table.rules[Int(rule[0].rule)].sourceNodes)
        }
        row.remove(position)
        return (.reduced(merged, ids.table), row)
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
            for slotID in index.perUserSlots {
                let slot = index.positions[slotID]
                if let id = ids.perUser[slot][owner] { appendOwn(id, slot: slot) }
            }
        }
        for slotID in index.perNodeSlots {
            let slot = index.positions[slotID]
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
