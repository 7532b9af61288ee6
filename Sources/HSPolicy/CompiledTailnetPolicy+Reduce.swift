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
/// A hit packs a slot id (high 32 bits) and a destination index plus one (low 32 bits; 0 stands
/// for a whole capability rule). Slot ids are stable across incremental compilations, while slot
/// positions shift; `positions` translates ids to positions, so sorting translated hits restores
/// policy order.
struct DestinationIndex: Sendable {
    private(set) var byAddress: [IPAddress: [UInt64]] = [:]
    /// Entries wider than one address, one element per distinct entry.
    private(set) var ranges: [(entry: AddressEntry, hits: [UInt64])] = []
    private(set) var wildcard: [UInt64] = []
    private(set) var internet: [UInt64] = []
    /// Ids of the slots of `autogroup:self` and `via` rules, which differ per user or node and are
    /// checked node by node.
    private(set) var perUserSlots: [Int] = []
    private(set) var perNodeSlots: [Int] = []
    /// Position of each slot id; -1 for ids no longer in use.
    private(set) var positions: [Int] = []
    /// Position in `ranges` of each range entry's text.
    private var rangeIndex: [String: Int] = [:]

    /// Indexes `slots`, giving each slot its position as id.
    init(slots: [RuleSlot]) {
        for (slotIndex, slot) in slots.enumerated() {
            add(slot, id: slotIndex)
        }
        positions = Array(slots.indices)
    }

    /// Sets the position of every slot id (`ids[position]`); ids not listed are no longer in use.
    mutating func place(_ ids: [Int]) {
        positions = Array(repeating: -1, count: (ids.max() ?? -1) + 1)
        for (position, id) in ids.enumerated() {
            positions[id] = position
        }
    }

    /// Removes the hits of the `removed` slots, each under its id. Hit lists stay unsorted, because
    /// `hits(for:)` sorts. Each list is filtered once, however many removed slots or destinations name it.
    mutating func remove(_ removed: [(slot: RuleSlot, id: Int)]) {
        guard let maxID = removed.map(\.id).max() else { return }
        var isRemoved = [Bool](repeating: false, count: maxID + 1)
        for (_, id) in removed { isRemoved[id] = true }
        let isRemovedID = { (id: Int) -> Bool in id <= maxID && isRemoved[id] }
        let isRemovedHit = { (hit: UInt64) -> Bool in isRemovedID(Int(hit >> 32)) }
        var addresses = Set<IPAddress>()
        var rangePositions = Set<Int>()
        var touchesWildcard = false
        var touchesInternet = false
        var lastAddress: IPAddress? = nil
        func visit(_ entry: AddressEntry, isInternet: Bool) {
            if entry.isWildcard {
                touchesWildcard = true
            } else if isInternet {
                touchesInternet = true
            } else if entry.first == entry.last {
                // One entry repeats once per port range, so repeats are skipped before hashing.
                if entry.first != lastAddress { addresses.insert(entry.first) }
                lastAddress = entry.first
            } else if let range = rangeIndex[entry.text] {
                rangePositions.insert(range)
            }
        }
        for (slot, _) in removed {
            guard case .shared(let rule) = slot else { continue }
            for entry in rule.capabilityDestinations { visit(entry, isInternet: false) }
            for destination in rule.destinations { visit(destination.entry, isInternet: destination.isInternet) }
        }
        if touchesWildcard { wildcard.removeAll(where: isRemovedHit) }
        if touchesInternet { internet.removeAll(where: isRemovedHit) }
        for address in addresses {
            byAddress[address]?.removeAll(where: isRemovedHit)
        }
        for range in rangePositions {
            ranges[range].hits.removeAll(where: isRemovedHit)
        }
        perUserSlots.removeAll(where: isRemovedID)
        perNodeSlots.removeAll(where: isRemovedID)
    }

    /// Returns a slot's destination entries with their internet flags, and whether it is a
    /// capability rule (whose hits stand for the whole rule).
    private static func entries(of slot: RuleSlot) -> ([(AddressEntry, Bool)], Bool) {
        guard case .shared(let rule) = slot else { return ([], false) }
        if rule.isCapabilityRule {
            return (rule.capabilityDestinations.map { ($0, false) }, true)
        }
        return (rule.destinations.map { ($0.entry, $0.isInternet) }, false)
    }

    /// Adds the hits of `slot` under `id`.
    mutating func add(_ slot: RuleSlot, id: Int) {
        switch slot {
        case .shared:
            break
        case .perUser:
            perUserSlots.append(id)
            return
        case .perNode:
            perNodeSlots.append(id)
            return
        }
        let base = UInt64(id) << 32
        let (entries, isCapability) = DestinationIndex.entries(of: slot)
        // One entry repeats once per port range, so consecutive hits on one address are added together.
        var runAddress: IPAddress? = nil
        var run: [UInt64] = []
        for (position, (entry, isInternet)) in entries.enumerated() {
            let hit = isCapability ? base : base | UInt64(position + 1)
            guard !isInternet && !entry.isWildcard && entry.first == entry.last else {
                add(entry, isInternet: isInternet, hit: hit)
                continue
            }
            if entry.first != runAddress, let address = runAddress {
                byAddress[address, default: []].append(contentsOf: run)
                run.removeAll(keepingCapacity: true)
            }
            runAddress = entry.first
            run.append(hit)
        }
        if let address = runAddress {
            byAddress[address, default: []].append(contentsOf: run)
        }
    }

    private mutating func add(_ entry: AddressEntry, isInternet: Bool, hit: UInt64) {
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

    /// Returns the distinct hits of every shared destination that concerns `target`, with slot ids
    /// translated to positions, sorted.
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
        for index in result.indices {
            let position = UInt64(positions[Int(result[index] >> 32)])
            result[index] = position << 32 | (result[index] & 0xFFFF_FFFF)
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
