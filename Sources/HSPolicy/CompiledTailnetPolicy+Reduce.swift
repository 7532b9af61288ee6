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

/// Where each destination entry of the shared rules points, so that a node's reduction visits
/// only the rules that concern it instead of every rule of the policy.
///
/// A hit packs a slot index (high 32 bits) and a destination index plus one (low 32 bits; 0 stands
/// for a whole capability rule), so sorting hits restores policy order.
struct DestinationIndex {
    private(set) var byAddress: [IPAddress: [UInt64]] = [:]
    /// Entries wider than one address, one element per distinct entry.
    private(set) var ranges: [(entry: AddressEntry, hits: [UInt64])] = []
    private(set) var wildcard: [UInt64] = []
    private(set) var internet: [UInt64] = []
    /// Slots of `autogroup:self` and `via` rules, which differ per user or node and are checked node by node.
    private(set) var perUserSlots: [Int] = []
    private(set) var perNodeSlots: [Int] = []

    init(slots: [RuleSlot]) {
        var rangeIndex: [String: Int] = [:]
        func add(_ entry: AddressEntry, isInternet: Bool, hit: UInt64) {
            if entry.isWildcard {
                wildcard.append(hit)
            } else if isInternet {
                internet.append(hit)
            } else if entry.first == entry.last {
                byAddress[entry.first, default: []].append(hit)
            } else if let position = rangeIndex[entry.text] {
                ranges[position].hits.append(hit)
            } else {
                rangeIndex[entry.text] = ranges.count
                ranges.append((entry, [hit]))
            }
        }
        for (slotIndex, slot) in slots.enumerated() {
            let rule: CompiledRule
            switch slot {
            case .shared(let shared):
                rule = shared
            case .perUser:
                perUserSlots.append(slotIndex)
                continue
            case .perNode:
                perNodeSlots.append(slotIndex)
                continue
            }
            let base = UInt64(slotIndex) << 32
            if rule.isCapabilityRule {
                for entry in rule.capabilityDestinations { add(entry, isInternet: false, hit: base) }
                continue
            }
            for (position, destination) in rule.destinations.enumerated() {
                add(destination.entry, isInternet: destination.isInternet, hit: base | UInt64(position + 1))
            }
        }
    }

    /// Returns the sorted, distinct hits of every shared destination that concerns `target`.
    func hits(for target: ReductionTarget) -> [UInt64] {
        var result = wildcard
        if target.isApprovedExitNode { result += internet }
        for address in target.addresses {
            result += byAddress[address] ?? []
        }
        for range in ranges
        where target.addresses.contains(where: range.entry.contains)
            || target.subnetRoutes.contains(where: range.entry.overlaps)
        {
            result += range.hits
        }
        if !target.subnetRoutes.isEmpty {
            for (address, hits) in byAddress where target.subnetRoutes.contains(where: { $0.contains(address) }) {
                result += hits
            }
        }
        result.sort()
        var distinct: [UInt64] = []
        distinct.reserveCapacity(result.count)
        for hit in result where distinct.last != hit {
            distinct.append(hit)
        }
        return distinct
    }
}
