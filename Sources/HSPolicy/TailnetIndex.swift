/// Lookup tables over one tailnet's nodes, and the memoised results of alias resolution.
///
/// Built once per compilation by `AliasResolver`. It is a class so that the resolver, a value
/// type copied into several compilers, shares one memo. It is not thread-safe, so it never leaves
/// the compiling thread.
final class TailnetIndex {
    struct EntriesKey: Hashable {
        let alias: PolicyAlias
        let asSource: Bool
    }

    /// Untagged nodes by owner, tagged nodes by tag, each ascending by position.
    let ownedPositions: [UInt64: [Int]]
    let taggedPositions: [String: [Int]]
    let memberPositions: [Int]
    let anyTagPositions: [Int]
    /// Positions of every node holding an address.
    let positionsByAddress: [IPAddress: [Int]]
    /// Positions of the nodes with approved subnet routes (exit routes excluded).
    let routerPositions: [Int]
    /// Each node's own addresses as filter entries, by position.
    let addressEntries: [[AddressEntry]]
    /// Position of each node id.
    let positionByID: [UInt64: Int]

    var userIDsByToken: [String: Set<UInt64>] = [:]
    var entriesByAlias: [EntriesKey: [AddressEntry]] = [:]
    private var sendersByEntry: [String: NodeBitSet] = [:]

    init(tailnet: PolicyTailnet) {
        var owned: [UInt64: [Int]] = [:]
        var tagged: [String: [Int]] = [:]
        var members: [Int] = []
        var anyTag: [Int] = []
        var byAddress: [IPAddress: [Int]] = [:]
        var routers: [Int] = []
        var entries: [[AddressEntry]] = []
        var byID: [UInt64: Int] = [:]
        for (position, node) in tailnet.nodes.enumerated() {
            byID[node.id] = position
            if node.isTagged {
                anyTag.append(position)
                for tag in Set(node.tags) { tagged[tag, default: []].append(position) }
            } else {
                members.append(position)
                if let owner = node.userID { owned[owner, default: []].append(position) }
            }
            let addresses = node.addresses
            for address in addresses { byAddress[address, default: []].append(position) }
            entries.append(addresses.map(AddressEntry.init(address:)))
            if !node.approvedSubnetRoutes.isEmpty { routers.append(position) }
        }
        ownedPositions = owned
        taggedPositions = tagged
        memberPositions = members
        anyTagPositions = anyTag
        positionsByAddress = byAddress
        routerPositions = routers
        addressEntries = entries
        positionByID = byID
    }

    /// Returns the positions of the nodes that may send from an address inside `entry`.
    func sendingPositions(_ entry: AddressEntry, nodes: [PolicyNode]) -> NodeBitSet {
        if let cached = sendersByEntry[entry.text] { return cached }
        var result = NodeBitSet(count: nodes.count)
        if !entry.isWildcard && entry.first == entry.last {
            for position in positionsByAddress[entry.first] ?? [] { result.insert(position) }
        } else {
            for (position, node) in nodes.enumerated() where node.addresses.contains(where: entry.contains) {
                result.insert(position)
            }
        }
        for position in routerPositions where nodes[position].approvedSubnetRoutes.contains(where: entry.overlaps) {
            result.insert(position)
        }
        sendersByEntry[entry.text] = result
        return result
    }
}
