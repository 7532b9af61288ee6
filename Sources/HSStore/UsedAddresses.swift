/// The addresses stored on nodes, by family, held in memory so that allocating one address costs a few set
/// lookups instead of a read of every node.
///
/// ``Store`` loads it from the database on first use and keeps it in step with its own writes: an
/// allocation adds its address at once, and inserts, updates and deletes of nodes add and remove
/// theirs inside the same transaction. When a transaction fails, the store drops the set and loads it again
/// on next use, so a rolled-back change never lingers. Writes by another process to the same file are not
/// seen: the unique indexes on `nodes.ipv4` and `nodes.ipv6` reject a duplicate, and
/// ``Store/createNode(_:allocatingFrom:now:)`` then reloads the set and allocates again.
struct UsedAddresses {
    var v4: Set<UInt128> = []
    var v6: Set<UInt128> = []

    /// Reads the address of every node, deleted or not, as the unique indexes cover every row.
    ///
    /// Text that does not parse as an address is skipped: it cannot collide with an allocated one.
    static func load(_ database: Database) throws(StoreError) -> UsedAddresses {
        var used = UsedAddresses()
        let rows = try database.query(
            "SELECT ipv4, ipv6 FROM nodes WHERE (ipv4 IS NOT NULL AND ipv4 != '') OR (ipv6 IS NOT NULL AND ipv6 != '')"
        ) { row in (row.string(0), row.string(1)) }
        for (ipv4, ipv6) in rows {
            used.insert(ipv4: ipv4, ipv6: ipv6)
        }
        return used
    }

    /// Returns the used values of `family`.
    func values(of family: IPAddress.Family) -> Set<UInt128> {
        family == .v4 ? v4 : v6
    }

    mutating func insert(_ address: IPAddress) {
        if address.family == .v4 {
            v4.insert(address.value)
        } else {
            v6.insert(address.value)
        }
    }

    /// Adds a node's address texts; nil, empty and unparsable texts are ignored.
    mutating func insert(ipv4: String?, ipv6: String?) {
        for text in [ipv4, ipv6] {
            if let address = text.flatMap(IPAddress.parse) {
                insert(address)
            }
        }
    }

    /// Removes a node's address texts; nil, empty and unparsable texts are ignored.
    mutating func remove(ipv4: String?, ipv6: String?) {
        for text in [ipv4, ipv6] {
            guard let address = text.flatMap(IPAddress.parse) else { continue }
            if address.family == .v4 {
                v4.remove(address.value)
            } else {
                v6.remove(address.value)
            }
        }
    }
}
