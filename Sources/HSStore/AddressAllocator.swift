/// Picks free addresses from a prefix. Pure: the caller supplies the used set and keeps the cursor.
enum AddressAllocator {
    /// Returns the next free address in `prefix`, or nil when every usable address is taken.
    ///
    /// - Parameters:
    ///   - used: address values already assigned to nodes.
    ///   - previous: the address handed out last, where `.sequential` continues.
    static func next(
        in prefix: IPPrefix,
        used: Set<UInt128>,
        strategy: AllocationStrategy,
        previous: UInt128?
    ) -> IPAddress? {
        let family = prefix.network.family
        guard prefix.last > prefix.first else { return nil }
        let low = prefix.first + 1
        // IPv4 prefixes lose their broadcast address; IPv6 has none.
        let high = family == .v4 ? prefix.last - 1 : prefix.last
        guard low <= high else { return nil }
        let start: UInt128
        switch strategy {
        case .sequential:
            if let previous, previous >= low, previous < high {
                start = previous + 1
            } else {
                start = low
            }
        case .random:
            start = UInt128.random(in: low...high)
        }
        var candidate = start
        repeat {
            let address = IPAddress(family: family, value: candidate)
            if !used.contains(candidate), isAssignable(address) {
                return address
            }
            candidate = candidate == high ? low : candidate + 1
        } while candidate != start
        return nil
    }

    /// Whether `address` is outside the ranges reserved for Tailscale services.
    static func isAssignable(_ address: IPAddress) -> Bool {
        !AddressPool.reserved.contains(address) && !AddressPool.chromeOSRange.contains(address)
    }
}
