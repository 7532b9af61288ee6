/// Classifies listen addresses (`host:port`) by who can reach them.
enum ListenAddress {
    /// Checks whether `address` (`host:port`) binds to loopback only. An empty host, `0.0.0.0`, `[::]` and any name but
    /// `localhost` count as reachable from other machines, because a name may resolve to any interface.
    static func isLoopback(_ address: String) -> Bool {
        guard let colon = address.lastIndex(of: ":") else { return false }
        return isLoopbackHost(String(address[..<colon]))
    }

    /// Checks whether `host` (a name, an IPv4 address or an IPv6 address, bracketed or not) is a loopback address.
    static func isLoopbackHost(_ host: String) -> Bool {
        var bare = host.lowercased()
        if bare.hasPrefix("["), bare.hasSuffix("]") {
            bare = String(bare.dropFirst().dropLast())
        }
        if bare == "localhost" || bare.hasSuffix(".localhost") {
            return true
        }
        guard let bytes = ValueSyntax.ipBytes(bare) else { return false }
        if bytes.count == 4 {
            return bytes[0] == 127
        }
        let isMappedIPv4 = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
        if isMappedIPv4 {
            return bytes[12] == 127
        }
        return bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
    }
}
