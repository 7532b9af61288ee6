import Foundation

/// Parsers for the small textual tokens of the policy language: aliases, ports, protocols.
enum PolicyTokens {
    /// Parses an alias token. Existence of groups, tags and hosts is checked later, with the rule as context.
    static func alias(_ raw: String) throws(PolicyError) -> PolicyAlias {
        let token = raw.trimmingCharacters(in: .whitespaces)
        if token == "*" { return .wildcard }
        if token.hasPrefix("autogroup:") {
            let name = String(token.dropFirst("autogroup:".count))
            guard let group = AutoGroup(rawValue: name) else {
                throw PolicyError(
                    "autogroup \"\(token)\" is not supported; use autogroup:member, autogroup:tagged, autogroup:self, "
                        + "autogroup:internet, autogroup:nonroot or autogroup:danger-all"
                )
            }
            return .autogroup(group)
        }
        if token.hasPrefix("group:") { return .group(token) }
        if token.hasPrefix("tag:") { return .tag(token) }
        if token.contains("@") { return .user(token) }
        if let prefix = IPPrefix(token) { return .prefix(prefix) }
        if token.isEmpty { throw PolicyError("empty alias; remove it or name a user, group, tag, host or address") }
        return .host(token)
    }

    /// Splits `alias:ports` at the last colon; `[v6]:ports` keeps the brackets out of the alias.
    static func splitDestination(_ token: String) -> (alias: String, ports: String)? {
        if token.hasPrefix("["), let close = token.firstIndex(of: "]") {
            let rest = token[token.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            return (String(token[token.index(after: token.startIndex)..<close]), String(rest.dropFirst()))
        }
        guard let colon = token.lastIndex(of: ":") else { return nil }
        return (String(token[..<colon]), String(token[token.index(after: colon)...]))
    }

    /// Parses `*`, `22`, `80,443` or `8000-8100` into port ranges.
    static func ports(_ text: String) throws(PolicyError) -> [PortRange] {
        if text == "*" { return [.all] }
        var ranges: [PortRange] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard let first = port(bounds[0]) else {
                throw PolicyError("port range \"\(part)\": invalid first integer")
            }
            var last = first
            if bounds.count == 2 {
                guard let parsed = port(bounds[1]) else {
                    throw PolicyError("port range \"\(part)\": invalid last integer")
                }
                last = parsed
            }
            guard first <= last else {
                throw PolicyError("port range \"\(part)\": first port is greater than last port; swap them")
            }
            guard first > 0 else {
                throw PolicyError("port range \"\(part)\": port 0 is not allowed; use * for all ports")
            }
            ranges.append(PortRange(first: first, last: last))
        }
        return ranges
    }

    private static func port(_ text: Substring) -> UInt16? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt16(text)
    }

    /// IANA numbers of the protocol names the policy language accepts.
    static let protocolNames: [String: Int] = [
        "icmp": 1, "igmp": 2, "ipv4": 4, "ip-in-ip": 4, "tcp": 6, "egp": 8, "igp": 9, "udp": 17,
        "gre": 47, "esp": 50, "ah": 51, "ipv6-icmp": 58, "icmpv6": 58, "sctp": 132, "fc": 133,
    ]

    /// Protocols that have ports: TCP, UDP and SCTP.
    static let protocolsWithPorts: Set<Int> = [6, 17, 132]

    /// Parses a `proto` value: a name, or a number from 0 to 255 without leading zeros.
    static func protocolNumber(_ text: String) throws(PolicyError) -> Int {
        let lowered = text.lowercased()
        if let number = protocolNames[lowered] { return number }
        if let number = Int(lowered), (0...255).contains(number), !(lowered.count > 1 && lowered.hasPrefix("0")) {
            return number
        }
        throw PolicyError(
            "proto \"\(text)\" is not a known protocol; use a name such as tcp, udp, icmp or a number from 0 to 255"
        )
    }
}
