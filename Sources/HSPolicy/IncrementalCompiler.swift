/// Compiles a policy again after a few nodes changed, reusing every rule and node result that the
/// change cannot affect.
///
/// A policy rule is compiled again when one of its aliases names a changed node before or after the
/// change. `*` counts as naming it when its addresses changed, and `autogroup:self` when it is or
/// was a user's device. `via` grants are always compiled again. Merged rules built from such a rule, and every node that one
/// of them concerns before or after, are compiled again. Peer visibility is patched in the rows and
/// columns of those nodes. SSH rules, when the policy has any, are compiled again for every node.
struct IncrementalCompiler {
    /// More changed nodes than this compile in full, where reuse would no longer pay.
    static let maxChangedNodes = 32

    let previous: CompileState
    let nodes: [UInt64: CompiledNodePolicy]

    init?(previous: CompileState, nodes: [UInt64: CompiledNodePolicy]) {
        self.previous = previous
        self.nodes = nodes
    }

    /// Returns the compiled nodes and state for `tailnet`, or nil when it differs from the previous
    /// tailnet in more than a few nodes' tags, owners, addresses or names.
    func recompile(_ tailnet: PolicyTailnet) -> (nodes: [UInt64: CompiledNodePolicy], state: CompileState)? {
        guard let changed = changedPositions(tailnet) else { return nil }
        let oldResolver = AliasResolver(policy: previous.policy, tailnet: previous.tailnet, indexingNodes: false)
        let resolver = AliasResolver(policy: previous.policy, tailnet: tailnet)
        let dirtyRules = affectedRules(changed, old: oldResolver, new: resolver)
        let compiler = FilterCompiler(resolver: resolver, keys: previous.keys)
        var ruleSlots = previous.ruleSlots
        var dirtyKeys = Set<Int>()
        for rule in dirtyRules {
            let fresh = compiler.slots(ofRule: rule)
            for case .shared(let compiled) in previous.ruleSlots[rule] + fresh where !compiled.isCapabilityRule {
                dirtyKeys.insert(compiled.mergeKey)
            }
            ruleSlots[rule] = fresh
        }
        let reuse = SlotMerger.Reuse(previous: previous, dirtyRules: dirtyRules, dirtyKeys: dirtyKeys)
        let merged = SlotMerger.merge(ruleSlots, reusing: reuse)
        let ids = TailnetReducer.ruleIDs(merged.slots, reusing: (merged.origins, previous.ids))
        let index = updatedIndex(merged)

        var affected = NodeBitSet(count: tailnet.nodes.count)
        for position in changed { affected.insert(position) }
        let patched = patchedKeys(dirtyKeys, dirtyRules: dirtyRules, ruleSlots: ruleSlots, merged: merged)
        func isPatched(_ slot: RuleSlot) -> Bool {
            guard case .shared(let rule) = slot, !rule.isCapabilityRule else { return false }
            return patched.contains(rule.mergeKey)
        }
        for (position, origin) in merged.origins.enumerated() where origin == nil && !isPatched(merged.slots[position])
        {
            affected.formUnion(concerned(merged.slots[position], resolver: resolver))
        }
        for rule in dirtyRules {
            // A merged rule compiled again in whole already covers the shared slots it contains.
            for slot in previous.ruleSlots[rule] where isPatched(slot) || !isMergeable(slot) {
                affected.formUnion(concerned(slot, resolver: resolver))
            }
            for slot in ruleSlots[rule] where isPatched(slot) {
                affected.formUnion(concerned(slot, resolver: resolver))
            }
        }
        for key in dirtyKeys where !patched.contains(key) {
            if let old = previous.positionByKey[key] {
                affected.formUnion(concerned(previous.slots[old], resolver: resolver))
            }
        }
        let build: Build = (ruleSlots, compiler, merged, ids, index)
        return finish(resolver: resolver, changed: changed, affected: affected, build: build)
    }

    /// Returns the dirty merge keys whose merged rule changed only in the slots of dirty rules.
    ///
    /// Such a merged rule starts with the same slot as before, with the same sources in the same
    /// order, so it keeps its encoded sources, its senders and its position among the merged rules.
    /// A node that receives none of the old or new destinations of its dirty slots receives the
    /// same part of it as before.
    private func patchedKeys(
        _ dirtyKeys: Set<Int>,
        dirtyRules: Set<Int>,
        ruleSlots: [[RuleSlot]],
        merged: SlotMerger.Result
    ) -> Set<Int> {
        dirtyKeys.filter { key in
            guard let first = merged.firstPartByKey[key], previous.firstPartByKey[key] == first else { return false }
            guard dirtyRules.contains(first.rule) else { return true }
            guard case .shared(let old) = previous.ruleSlots[first.rule][first.slot],
                case .shared(let new) = ruleSlots[first.rule][first.slot]
            else { return false }
            return old.sourceNodes == new.sourceNodes && old.sources.map(\.text) == new.sources.map(\.text)
        }
    }

    private func isMergeable(_ slot: RuleSlot) -> Bool {
        guard case .shared(let rule) = slot else { return false }
        return !rule.isCapabilityRule
    }

    /// Positions of the nodes that differ from the previous tailnet, or nil when the tailnets differ
    /// in users, node order, routes or too many nodes.
    private func changedPositions(_ tailnet: PolicyTailnet) -> [Int]? {
        let old = previous.tailnet
        guard old.users == tailnet.users, old.serverURL == tailnet.serverURL, old.nodes.count == tailnet.nodes.count
        else { return nil }
        var changed: [Int] = []
        for (position, (before, after)) in zip(old.nodes, tailnet.nodes).enumerated() where before != after {
            // Approved routes feed `*` sources and every rule overlapping them; a full compile is simpler.
            guard before.id == after.id, before.approvedRoutes == after.approvedRoutes else { return nil }
            changed.append(position)
            if changed.count > IncrementalCompiler.maxChangedNodes { return nil }
        }
        return changed
    }

    /// Indexes of the policy rules (ACLs, then grants) whose slots may differ after the change.
    private func affectedRules(_ changed: [Int], old: AliasResolver, new: AliasResolver) -> Set<Int> {
        var memo: [PolicyAlias: Bool] = [:]
        func isMember(_ node: PolicyNode) -> Bool { !node.isTagged && node.userID != nil }
        func affects(_ alias: PolicyAlias) -> Bool {
            if let known = memo[alias] { return known }
            let result: Bool
            switch alias {
            case .autogroup(.dangerAll), .autogroup(.internet), .autogroup(.nonroot):
                result = false
            case .wildcard:
                result = changed.contains { old.tailnet.nodes[$0].addresses != new.tailnet.nodes[$0].addresses }
            case .autogroup(.self):
                result = changed.contains { isMember(old.tailnet.nodes[$0]) || isMember(new.tailnet.nodes[$0]) }
            default:
                result = changed.contains {
                    old.matches(old.tailnet.nodes[$0], alias) || new.matches(new.tailnet.nodes[$0], alias)
                }
            }
            memo[alias] = result
            return result
        }
        let policy = previous.policy
        var result = Set<Int>()
        for (index, rule) in policy.acls.enumerated()
        where rule.sources.contains(where: affects) || rule.destinations.contains(where: { affects($0.alias) }) {
            result.insert(index)
        }
        for (index, grant) in policy.grants.enumerated()
        where !grant.via.isEmpty || grant.sources.contains(where: affects)
            || grant.destinations.contains(where: affects)
        {
            result.insert(policy.acls.count + index)
        }
        return result
    }

    /// Patches the previous index: removes the slots not taken over and adds the new ones.
    private func updatedIndex(_ merged: SlotMerger.Result) -> DestinationIndex {
        var index = previous.index
        var kept = [Bool](repeating: false, count: previous.slots.count)
        for origin in merged.origins {
            if let origin { kept[origin] = true }
        }
        var removed: [(slot: RuleSlot, id: Int)] = []
        for (position, slot) in previous.slots.enumerated() where !kept[position] {
            removed.append((slot, previous.slotIDs[position]))
        }
        index.remove(removed)
        for (position, origin) in merged.origins.enumerated() where origin == nil {
            index.add(merged.slots[position], id: merged.slotIDs[position])
        }
        index.place(merged.slotIDs)
        return index
    }

    /// Returns the positions of the nodes a slot may concern (a superset is fine: it only costs work).
    private func concerned(_ slot: RuleSlot, resolver: AliasResolver) -> NodeBitSet {
        let nodes = resolver.tailnet.nodes
        var result = NodeBitSet(count: nodes.count)
        let entries: [(AddressEntry, Bool)]
        switch slot {
        case .perUser(let byUser):
            for user in byUser.keys {
                for position in resolver.index.ownedPositions[user] ?? [] { result.insert(position) }
            }
            return result
        case .perNode(let byNode):
            for position in byNode.keys { result.insert(position) }
            return result
        case .shared(let rule):
            entries =
                rule.isCapabilityRule
                ? rule.capabilityDestinations.map { ($0, false) } : rule.destinations.map { ($0.entry, $0.isInternet) }
        }
        var seen = Set<String>()
        var lastAddress: IPAddress? = nil
        for (entry, isInternet) in entries {
            if !isInternet && !entry.isWildcard && entry.first == entry.last {
                // One entry repeats once per port range, so a repeat of the previous address adds nothing.
                guard entry.first != lastAddress else { continue }
                lastAddress = entry.first
                for position in resolver.index.positionsByAddress[entry.first] ?? [] { result.insert(position) }
            } else {
                guard seen.insert(isInternet ? "internet " + entry.text : entry.text).inserted else { continue }
                if entry.isWildcard {
                    for position in nodes.indices { result.insert(position) }
                    return result
                }
                if isInternet {
                    for (position, node) in nodes.enumerated() where node.isApprovedExitNode { result.insert(position) }
                    continue
                }
                for (position, node) in nodes.enumerated() where node.addresses.contains(where: entry.contains) {
                    result.insert(position)
                }
            }
            for position in resolver.index.routerPositions
            where nodes[position].approvedSubnetRoutes.contains(where: entry.overlaps) {
                result.insert(position)
            }
        }
        return result
    }

    private typealias Build = (
        ruleSlots: [[RuleSlot]], compiler: FilterCompiler, merged: SlotMerger.Result,
        ids: TailnetReducer.RuleIDs, index: DestinationIndex
    )

    /// Compiles the affected nodes again, patches visibility, and takes every other node over.
    private func finish(
        resolver: AliasResolver,
        changed: [Int],
        affected: NodeBitSet,
        build: Build
    ) -> (nodes: [UInt64: CompiledNodePolicy], state: CompileState) {
        let tailnet = resolver.tailnet
        let reducer = TailnetReducer(resolver: resolver)
        var rows = previous.rows
        var filters: [Int: NodeFilter] = [:]
        var affectedList: [Int] = []
        affected.forEach { position in
            let (filter, row) = reducer.reduce(position, index: build.index, ids: build.ids)
            filters[position] = filter
            rows[position] = row
            affectedList.append(position)
        }
        let visibility = patchedVisibility(rows: rows, affected: affected, affectedList: affectedList)

        let ssh = resolver.policy.ssh.isEmpty ? nil : SSHCompiler(resolver: resolver)
        let changedSet = Set(changed)
        let nodeIDs = tailnet.nodes.map(\.id)
        var result: [UInt64: CompiledNodePolicy] = [:]
        result.reserveCapacity(tailnet.nodes.count)
        for (position, node) in tailnet.nodes.enumerated() {
            guard let old = nodes[node.id] else { continue }
            let filter = filters[position] ?? old.filter
            result[node.id] = CompiledNodePolicy(
                encodedFilter: filters[position]?.encode(reusing: (old.filter, old.encodedFilter)) ?? old.encodedFilter,
                sshRules: ssh.map { $0.rules(for: node) } ?? old.sshRules ?? [],
                filter: filter,
                visibility: visibility[position],
                nodeIDs: nodeIDs,
                capabilities: changedSet.contains(position)
                    ? CompiledTailnetPolicy.capabilities(resolver: resolver, node: node) : old.capabilities
            )
        }
        let state = CompileState(
            resolver: resolver,
            ruleSlots: build.ruleSlots,
            keys: build.compiler.keys,
            merged: build.merged,
            ids: build.ids,
            index: build.index,
            rows: rows,
            visibility: visibility
        )
        return (result, state)
    }

    /// Returns the previous visibility with the rows and columns of the affected nodes recomputed.
    /// Node `i` may see `j` when `j` is in row `i` or `i` is in row `j`.
    private func patchedVisibility(rows: [NodeBitSet], affected: NodeBitSet, affectedList: [Int]) -> [NodeBitSet] {
        var visibility = previous.visibility
        var listIndex = [Int](repeating: -1, count: rows.count)
        for (index, position) in affectedList.enumerated() { listIndex[position] = index }
        var seen = affectedList.map { rows[$0] }
        let affectedWords = affected.words
        for other in rows.indices {
            rows[other].words.withUnsafeBufferPointer { words in
                for wordIndex in words.indices {
                    var bits = words[wordIndex] & affectedWords[wordIndex]
                    while bits != 0 {
                        seen[listIndex[wordIndex << 6 | bits.trailingZeroBitCount]].insert(other)
                        bits &= bits - 1
                    }
                }
            }
        }
        // Visibility is symmetric, so an unaffected node's bit for an affected one changes exactly
        // where the affected node's new row differs from its old one.
        for (index, position) in affectedList.enumerated() {
            let new = seen[index]
            let old = previous.visibility[position]
            visibility[position] = new
            for wordIndex in affectedWords.indices {
                var bits = (new.words[wordIndex] ^ old.words[wordIndex]) & ~affectedWords[wordIndex]
                while bits != 0 {
                    let other = wordIndex << 6 | bits.trailingZeroBitCount
                    if new.contains(other) {
                        visibility[other].insert(position)
                    } else {
                        visibility[other].remove(position)
                    }
                    bits &= bits - 1
                }
            }
        }
        return visibility
    }
}
