extension Store {
    /// Returns the addresses the next node would get from `pool`, without reserving them.
    ///
    /// Another caller may take the same addresses before they are stored: to give a new node addresses, pass the
    /// pool to ``createNode(_:allocatingFrom:now:)`` instead, which allocates and inserts in one transaction.
    /// The unique indexes on `nodes.ipv4` and `nodes.ipv6` reject a duplicate written through ``updateNode(_:now:)``.
    ///
    /// - Throws: `.addressesExhausted` when a prefix has no free address.
    public func allocateAddresses(from pool: AddressPool) throws(StoreError) -> (ipv4: String?, ipv6: String?) {
        try withState { (state) throws(StoreError) -> (ipv4: String?, ipv6: String?) in
            // The probe's cursors and used set are copies, so nothing is reserved.
            var probe = state
            let v4 = try pool.v4.map { prefix throws(StoreError) in
                try Store.nextAddress(in: prefix, strategy: pool.strategy, state: &probe).description
            }
            let v6 = try pool.v6.map { prefix throws(StoreError) in
                try Store.nextAddress(in: prefix, strategy: pool.strategy, state: &probe).description
            }
            return (v4, v6)
        }
    }

    /// Gives `node` an address of each family the pool has and the node lacks, advancing the cursors in `state`.
    static func assignAddresses(_ node: inout Node, pool: AddressPool, state: inout State) throws(StoreError) {
        if node.ipv4 == nil, let prefix = pool.v4 {
            node.ipv4 = try nextAddress(in: prefix, strategy: pool.strategy, state: &state).description
        }
        if node.ipv6 == nil, let prefix = pool.v6 {
            node.ipv6 = try nextAddress(in: prefix, strategy: pool.strategy, state: &state).description
        }
    }

    /// Picks the next free address of `prefix`, marks it used and records it as the family's previous address
    /// for sequential allocation.
    ///
    /// The used addresses come from `state.usedAddresses`, read from the database on first use. Sequential
    /// allocation checks candidates from the cursor on, so it usually checks one. The first allocation after
    /// opening starts at the prefix's first address and steps over every address in use from there.
    static func nextAddress(
        in prefix: IPPrefix,
        strategy: AllocationStrategy,
        state: inout State
    ) throws(StoreError) -> IPAddress {
        let isV4 = prefix.network.family == .v4
        if state.usedAddresses == nil {
            state.usedAddresses = try UsedAddresses.load(state.database)
        }
        let previous = isV4 ? state.previousV4 : state.previousV6
        // The set is changed in place below, because a copy taken out of `state` would copy every element.
        guard
            let address = AddressAllocator.next(
                in: prefix,
                used: state.usedAddresses?.values(of: prefix.network.family) ?? [],
                strategy: strategy,
                previous: previous
            )
        else {
            throw StoreError(
                .addressesExhausted,
                "no free address left in \(prefix); delete unused nodes or configure a larger prefix"
            )
        }
        state.usedAddresses?.insert(address)
        if isV4 {
            state.previousV4 = address.value
        } else {
            state.previousV6 = address.value
        }
        return address
    }
}

extension Store {
    /// Returns the address texts of the node row with `id`, deleted or not, or nil when there is no such row.
    static func storedAddresses(_ database: Database, id: UInt64) throws(StoreError) -> (ipv4: String?, ipv6: String?)?
    {
        try database.queryOne("SELECT ipv4, ipv6 FROM nodes WHERE id = ?", [.integer(id)]) { row in
            (row.string(0), row.string(1))
        }
    }

    /// Returns whether `error` is a unique index on `nodes.ipv4` or `nodes.ipv6` rejecting an address.
    static func isAddressConflict(_ error: StoreError) -> Bool {
        error.code == .conflict && (error.message.contains("nodes.ipv4") || error.message.contains("nodes.ipv6"))
    }
}
