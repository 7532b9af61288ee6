/// A node's addresses and routes, read once for the many destination checks of one reduction.
struct ReductionTarget {
    let addresses: [IPAddress]
    let subnetRoutes: [IPPrefix]
    let isApprovedExitNode: Bool

    init(node: PolicyNode) {
        addresses = node.addresses
        subnetRoutes = node.approvedSubnetRoutes
        isApprovedExitNode = node.isApprovedExitNode
    }

    /// True when traffic to `entry` is delivered to the node: one of its addresses, or a route it serves.
    func concerns(_ entry: AddressEntry, isInternet: Bool) -> Bool {
        if entry.isWildcard { return true }
        // NOTE: no recorded vector has an approved exit node with autogroup:internet, so whether
        // Tailscale puts these entries into the exit node's own filter is unverified.
        if isInternet { return isApprovedExitNode }
        if addresses.contains(where: entry.contains) { return true }
        return subnetRoutes.contains(where: entry.overlaps)
    }
}

/// Per-node reduction, merging and peer visibility.
extension CompiledTailnetPolicy {
    /// Keeps the rules, and inside them the destinations, that concern `node`.
    static func reduce(_ slots: [RuleSlot], for node: PolicyNode) -> [CompiledRule] {
        // Computed once here: both properties build a new array on every access.
        let target = ReductionTarget(node: node)
        var result: [CompiledRule] = []
        for slot in slots {
            var rule: CompiledRule
            switch slot {
            case .shared(let shared):
                rule = shared
            case .perUser(let byUser):
                guard !node.isTagged, let owner = node.userID, let own = byUser[owner] else { continue }
                rule = own
            }
            if rule.isCapabilityRule {
                guard rule.capabilityDestinations.contains(where: { target.concerns($0, isInternet: false) })
                else { continue }
                result.append(rule)
                continue
            }
            guard rule.destinations.contains(where: { target.concerns($0.entry, isInternet: $0.isInternet) }) else {
                continue
            }
            rule.destinations = rule.destinations.filter { target.concerns($0.entry, isInternet: $0.isInternet) }
            if !rule.destinations.isEmpty { result.append(rule) }
        }
        return merge(result)
    }

    /// Merges IP rules with equal sources and protocols into the first of them, keeping duplicate
    /// destinations, as Tailscale's control plane does.
    static func merge(_ rules: [CompiledRule]) -> [CompiledRule] {
        var result: [CompiledRule] = []
        var indexByKey: [[String]: Int] = [:]
        for rule in rules {
            guard !rule.isCapabilityRule else {
                result.append(rule)
                continue
            }
            let key = rule.sources.map(\.text).sorted() + ["|"] + rule.protocols.map(String.init)
            if let index = indexByKey[key] {
                result[index].destinations += rule.destinations
                result[index].sourceNodeIDs += rule.sourceNodeIDs
            } else {
                indexByKey[key] = result.count
                result.append(rule)
            }
        }
        return result
    }

    /// True when `node` may send from an address in `sources` (its own, or a subnet it routes).
    static func isSource(_ node: PolicyNode, of sources: [AddressEntry]) -> Bool {
        sources.contains { entry in
            node.addresses.contains(where: entry.contains) || node.approvedSubnetRoutes.contains(where: entry.overlaps)
        }
    }

    /// Two nodes see each other when either one's reduced filter admits the other as a source.
    static func visibility(_ reduced: [UInt64: [CompiledRule]], nodes: [PolicyNode]) -> [UInt64: Set<UInt64>] {
        var result: [UInt64: Set<UInt64>] = [:]
        for destination in nodes {
            for rule in reduced[destination.id] ?? [] {
                for source in rule.sourceNodeIDs where source != destination.id {
                    result[destination.id, default: []].insert(source)
                    result[source, default: []].insert(destination.id)
                }
            }
        }
        return result
    }
}
