import Foundation

extension Store {
    /// Brings every node's addresses in line with `pool`, in one transaction, and returns the changed nodes.
    ///
    /// A node that lacks an address of a family the pool has gets the next free one. An address outside the
    /// pool's prefix of its family, or of a family the pool no longer has, is removed. With no pool, every
    /// address is removed. Nodes that already fit are left alone.
    public func backfillAddresses(pool: AddressPool?, now: Date = Date()) throws(StoreError) -> [Node] {
        try withState { (state) throws(StoreError) -> [Node] in
            // The used set may still list addresses this backfill clears, so it is read again on next use.
            defer { state.usedAddresses = nil }
            return try state.database.transaction { () throws(StoreError) -> [Node] in
                let nodes = try state.database.query(
                    "SELECT \(Store.nodeColumns) FROM nodes WHERE deleted_at IS NULL ORDER BY id",
                    row: Store.decodeNode
                )
                var changed: [Node] = []
                for original in nodes {
                    var node = original
                    node.ipv4 = Store.keptAddress(node.ipv4, in: pool?.v4)
                    node.ipv6 = Store.keptAddress(node.ipv6, in: pool?.v6)
                    // Clear first, so an address dropped here is free for the allocation below.
                    try Store.writeAddresses(node, database: state.database, now: now)
                    if let pool {
                        try Store.assignAddresses(&node, pool: pool, state: &state)
                        try Store.writeAddresses(node, database: state.database, now: now)
                    }
                    if node.ipv4 != original.ipv4 || node.ipv6 != original.ipv6 {
                        changed.append(try Store.requireNode(state.database, id: node.id))
                    }
                }
                return changed
            }
        }
    }

    /// `text` when it parses and lies inside `prefix`, otherwise nil.
    static func keptAddress(_ text: String?, in prefix: IPPrefix?) -> String? {
        guard let text, let prefix, let address = IPAddress.parse(text), address.family == prefix.network.family,
            prefix.contains(address)
        else { return nil }
        return text
    }

    private static func writeAddresses(_ node: Node, database: Database, now: Date) throws(StoreError) {
        try database.run(
            "UPDATE nodes SET ipv4 = ?, ipv6 = ?, updated_at = ? WHERE id = ?",
            [.text(node.ipv4), .text(node.ipv6), .text(SQLiteTime.format(now)), .integer(node.id)]
        )
    }
}
