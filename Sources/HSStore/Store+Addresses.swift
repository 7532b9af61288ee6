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

    /// Picks the next free address of `prefix`, reading the used ones from the database, and records it as the
    /// family's previous address for sequential allocation.
    static func nextAddress(
        in prefix: IPPrefix,
        strategy: AllocationStrategy,
        state: inout State
    ) throws(StoreError) -> IPAddress {
        let isV4 = prefix.network.family == .v4
        let column = isV4 ? "ipv4" : "ipv6"
        let texts = try state.database.query(
            "SELECT \(column) FROM nodes WHERE \(column) IS NOT NULL AND \(column) != ''"
        ) { $0.string(0) ?? "" }
        let used = Set(texts.compactMap { IPAddress.parse($0)?.value })
        let previous = isV4 ? state.previousV4 : state.previousV6
        guard let address = AddressAllocator.next(in: prefix, used: used, strategy: strategy, previous: previous)
        else {
            throw StoreError(
                .addressesExhausted,
                "no free address left in \(prefix); delete unused nodes or configure a larger prefix"
            )
        }
        if isV4 {
            state.previousV4 = address.value
        } else {
            state.previousV6 = address.value
        }
        return address
    }
}
