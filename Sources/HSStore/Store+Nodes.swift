import Foundation
import HSCore

extension Store {
    static let nodeColumns = """
        id, machine_key, node_key, disco_key, endpoints, host_info, ipv4, ipv6, hostname, given_name, user_id, \
        register_method, tags, auth_key_id, expiry, last_seen, approved_routes, created_at, updated_at
        """

    /// Inserts a node and returns it with its id, timestamps, addresses and given name filled in.
    ///
    /// In the same transaction: when `pool` is given, a nil `ipv4`/`ipv6` gets the next free address of the
    /// pool's prefix of that family; and when another node already has `givenName`, the first free of
    /// `name-1`, `name-2`, … is used instead.
    ///
    /// - Throws: `.addressesExhausted` when a prefix is full, `.conflict` when a given address is taken,
    ///   `.invalidArgument` for an invalid given name.
    public func createNode(_ node: Node, allocatingFrom pool: AddressPool? = nil, now: Date = Date()) throws(StoreError)
        -> Node
    {
        try Store.validateGivenName(node.givenName)
        return try withState { (state) throws(StoreError) -> Node in
            do throws(StoreError) {
                return try Store.insertNode(node, allocatingFrom: pool, now: now, state: &state)
            } catch  where pool != nil && Store.isAddressConflict(error) {
                // Another process may have stored an address this store had not seen, so the retry reads every
                // address again. A conflict on an address the caller gave fails the same way twice.
                return try Store.insertNode(node, allocatingFrom: pool, now: now, state: &state)
            }
        }
    }

    /// Allocates, inserts and records the node's addresses as used, in one transaction. When it fails, the
    /// in-memory used addresses are dropped, because they may list an address that was never stored.
    private static func insertNode(
        _ node: Node,
        allocatingFrom pool: AddressPool?,
        now: Date,
        state: inout State
    ) throws(StoreError) -> Node {
        do throws(StoreError) {
            return try state.database.transaction { () throws(StoreError) -> Node in
                var node = node
                if let pool {
                    try Store.assignAddresses(&node, pool: pool, state: &state)
                }
                node.givenName = try Store.freeGivenName(state.database, base: node.givenName, excluding: nil)
                node.createdAt = now
                node.updatedAt = now
                try state.database.run(
                    """
                    INSERT INTO nodes (machine_key, node_key, disco_key, endpoints, host_info, ipv4, ipv6, hostname,
                        given_name, user_id, register_method, tags, auth_key_id, expiry, last_seen, approved_routes,
                        updated_at, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    Store.nodeValues(node) + [.text(SQLiteTime.format(now))]
                )
                state.usedAddresses?.insert(ipv4: node.ipv4, ipv6: node.ipv6)
                return try Store.requireNode(state.database, id: UInt64(state.database.lastInsertRowID))
            }
        } catch {
            state.usedAddresses = nil
            throw error
        }
    }

    /// Writes every field of `node` except `id` and `createdAt`, sets `updatedAt` to `now`, and returns the row.
    ///
    /// The given name is written as is; use ``renameNode(id:givenName:)`` for a checked rename.
    /// - Throws: `.notFound`, or `.conflict` when an address belongs to another node.
    @discardableResult
    public func updateNode(_ node: Node, now: Date = Date()) throws(StoreError) -> Node {
        var node = node
        node.updatedAt = now
        let values = Store.nodeValues(node)
        return try withState { (state) throws(StoreError) -> Node in
            do throws(StoreError) {
                return try state.database.transaction { () throws(StoreError) -> Node in
                    let before = try Store.storedAddresses(state.database, id: node.id)
                    try state.database.run(
                        """
                        UPDATE nodes SET machine_key = ?, node_key = ?, disco_key = ?, endpoints = ?, host_info = ?,
                            ipv4 = ?, ipv6 = ?, hostname = ?, given_name = ?, user_id = ?, register_method = ?,
                            tags = ?, auth_key_id = ?, expiry = ?, last_seen = ?, approved_routes = ?, updated_at = ?
                        WHERE id = ?
                        """,
                        values + [.integer(node.id)]
                    )
                    guard state.database.changes == 1, let before else { throw Store.nodeNotFound(node.id) }
                    if before.ipv4 != node.ipv4 || before.ipv6 != node.ipv6 {
                        state.usedAddresses?.remove(ipv4: before.ipv4, ipv6: before.ipv6)
                        state.usedAddresses?.insert(ipv4: node.ipv4, ipv6: node.ipv6)
                    }
                    return try Store.requireNode(state.database, id: node.id)
                }
            } catch {
                state.usedAddresses = nil
                throw error
            }
        }
    }

    /// Returns the node with `id`, or nil.
    public func node(id: UInt64) throws(StoreError) -> Node? {
        try withDatabase { (database) throws(StoreError) in try Store.findNode(database, id: id) }
    }

    /// Returns the newest node with this machine key, or nil.
    ///
    /// One machine may have several nodes when it logged in as different users; this returns the highest id.
    public func node(machineKey: MachinePublicKey) throws(StoreError) -> Node? {
        try withDatabase { (database) throws(StoreError) in
            try database.queryOne(
                "SELECT \(Store.nodeColumns) FROM nodes WHERE machine_key = ? AND deleted_at IS NULL "
                    + "ORDER BY id DESC LIMIT 1",
                [.text(machineKey.text)],
                row: Store.decodeNode
            )
        }
    }

    /// Returns the newest node with this node key, or nil.
    public func node(nodeKey: NodePublicKey) throws(StoreError) -> Node? {
        try withDatabase { (database) throws(StoreError) in
            try database.queryOne(
                "SELECT \(Store.nodeColumns) FROM nodes WHERE node_key = ? AND deleted_at IS NULL "
                    + "ORDER BY id DESC LIMIT 1",
                [.text(nodeKey.text)],
                row: Store.decodeNode
            )
        }
    }

    /// Returns the nodes owned by `userID`, or every node when it is nil, ordered by id.
    public func nodes(userID: UInt64? = nil) throws(StoreError) -> [Node] {
        try withDatabase { (database) throws(StoreError) in
            if let userID {
                return try database.query(
                    "SELECT \(Store.nodeColumns) FROM nodes WHERE user_id = ? AND deleted_at IS NULL ORDER BY id",
                    [.integer(userID)],
                    row: Store.decodeNode
                )
            }
            return try database.query(
                "SELECT \(Store.nodeColumns) FROM nodes WHERE deleted_at IS NULL ORDER BY id",
                row: Store.decodeNode
            )
        }
    }

    /// Deletes a node; its addresses become free again.
    public func deleteNode(id: UInt64) throws(StoreError) {
        try withState { (state) throws(StoreError) in
            do throws(StoreError) {
                try state.database.transaction { () throws(StoreError) in
                    let addresses = try Store.storedAddresses(state.database, id: id)
                    try state.database.run("DELETE FROM nodes WHERE id = ?", [.integer(id)])
                    guard state.database.changes == 1, let addresses else { throw Store.nodeNotFound(id) }
                    state.usedAddresses?.remove(ipv4: addresses.ipv4, ipv6: addresses.ipv6)
                }
            } catch {
                state.usedAddresses = nil
                throw error
            }
        }
    }

    /// Sets a node's given name (its MagicDNS label) and returns the node.
    ///
    /// - Throws: `.invalidArgument` unless the name is 1 to 63 of `a-z 0-9 -` and neither starts nor ends with
    ///   `-`; `.conflict` when another node has it; `.notFound`.
    @discardableResult
    public func renameNode(id: UInt64, givenName: String, now: Date = Date()) throws(StoreError) -> Node {
        try Store.validateGivenName(givenName)
        return try transaction { (database) throws(StoreError) -> Node in
            _ = try Store.requireNode(database, id: id)
            let owner = try database.queryOne(
                "SELECT id FROM nodes WHERE given_name = ? AND id != ?",
                [.text(givenName), .integer(id)]
            ) { $0.int64(0) }
            if let owner {
                throw StoreError(.conflict, "node \(owner) is already called \"\(givenName)\"; choose another name")
            }
            try database.run(
                "UPDATE nodes SET given_name = ?, updated_at = ? WHERE id = ?",
                [.text(givenName), .text(SQLiteTime.format(now)), .integer(id)]
            )
            return try Store.requireNode(database, id: id)
        }
    }
}
