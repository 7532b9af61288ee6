import HSCore

/// Node ids by node key, by machine key and in id order, plus the given names in use and the
/// nodes with approved routes. With it, map requests, registrations, full maps and route elections
/// need not scan or sort every node.
///
/// ``ControlPlane`` updates it wherever it stores or removes an entry (`putLocked`, node deletion,
/// start-up), under the same lock as the entries. A key maps to a set because an older node of the
/// same machine may still hold a key that a newer node took over, and a machine has one node per
/// user.
struct NodeIndex: Sendable {
    private var byNodeKey: [NodePublicKey: Set<UInt64>] = [:]
    private var byMachineKey: [MachinePublicKey: Set<UInt64>] = [:]
    /// Every node id, ascending: the order of peers in a full map.
    private(set) var sortedIDs: [UInt64] = []
    /// The number of nodes with each given name. Names are normally unique, but the store decides.
    private var givenNameCounts: [String: Int] = [:]
    /// Nodes with at least one approved route: the only candidates of a route election.
    private(set) var routers: Set<UInt64> = []

    /// Moves the node from the keys of `old` to the keys of `new`. `old` is nil for an insert and
    /// `new` is nil for a removal.
    mutating func replace(_ old: ControlNode?, with new: ControlNode?) {
        if let old, old.nodeKey != new?.nodeKey || old.id != new?.id {
            Self.remove(old.id, for: old.nodeKey, from: &byNodeKey)
        }
        if let old, old.machineKey != new?.machineKey || old.id != new?.id {
            Self.remove(old.id, for: old.machineKey, from: &byMachineKey)
        }
        if let old {
            givenNameCounts[old.givenName, default: 1] -= 1
            if givenNameCounts[old.givenName] == 0 { givenNameCounts[old.givenName] = nil }
            routers.remove(old.id)
        }
        if let new {
            byNodeKey[new.nodeKey, default: []].insert(new.id)
            byMachineKey[new.machineKey, default: []].insert(new.id)
            givenNameCounts[new.givenName, default: 0] += 1
            if !new.approvedRoutes.isEmpty { routers.insert(new.id) }
        }
        updateSortedIDs(removing: old?.id, adding: new?.id)
    }

    /// Returns whether a node has `name` as its given name.
    func isGivenNameTaken(_ name: String) -> Bool {
        givenNameCounts[name] != nil
    }

    private mutating func updateSortedIDs(removing old: UInt64?, adding new: UInt64?) {
        guard old != new else { return }
        if let old, let position = position(of: old), sortedIDs[position] == old {
            sortedIDs.remove(at: position)
        }
        if let new {
            // New nodes get the highest id so far, so this is an append except at start-up.
            if let last = sortedIDs.last, last >= new {
                let position = position(of: new) ?? sortedIDs.endIndex
                if sortedIDs[position] != new { sortedIDs.insert(new, at: position) }
            } else {
                sortedIDs.append(new)
            }
        }
    }

    /// Returns the first position whose id is not less than `id`, or nil when every id is less.
    private func position(of id: UInt64) -> Int? {
        var low = 0
        var high = sortedIDs.count
        while low < high {
            let middle = (low + high) / 2
            if sortedIDs[middle] < id { low = middle + 1 } else { high = middle }
        }
        return low < sortedIDs.count ? low : nil
    }

    /// Returns the ids of the nodes whose current node key is `key`.
    func ids(nodeKey key: NodePublicKey) -> Set<UInt64> {
        byNodeKey[key] ?? []
    }

    /// Returns the ids of the nodes of the machine `key`.
    func ids(machineKey key: MachinePublicKey) -> Set<UInt64> {
        byMachineKey[key] ?? []
    }

    private static func remove<Key: Hashable>(_ id: UInt64, for key: Key, from map: inout [Key: Set<UInt64>]) {
        guard var ids = map[key] else { return }
        ids.remove(id)
        map[key] = ids.isEmpty ? nil : ids
    }
}

/// The users whose profiles a map lists, collected node by node.
struct ProfileOwners {
    private var userIDs = Set<UInt64>()
    private var hasTaggedNode = false

    mutating func add(_ node: ControlNode) {
        if let userID = node.userID, node.tags.isEmpty {
            userIDs.insert(userID)
        } else {
            hasTaggedNode = true
        }
    }

    /// Encodes the profiles of the collected users, plus the tagged-devices profile when a tagged
    /// node was added.
    func encode(users: [UInt64: ControlUser], with encoder: MapEncoder) -> [UInt8] {
        encoder.userProfilesJSON(userIDs.compactMap { users[$0] }, includeTagged: hasTaggedNode)
    }
}
