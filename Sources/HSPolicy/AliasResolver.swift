/// Resolves policy aliases to nodes and filter address entries for one tailnet.
///
/// Built once per compilation; it indexes users by email and name, and nodes by owner, tag and
/// address, so resolving an alias costs the size of its result rather than the size of the tailnet.
/// Results are memoised in `index`, which is why one resolver must stay on one thread.
struct AliasResolver {
    let policy: Policy
    let tailnet: PolicyTailnet
    let index: TailnetIndex

    /// Tailscale's CGNAT range 100.64.0.0/10 without 100.115.92.0/23 (reserved by ChromeOS), as the
    /// two inclusive ranges the control plane writes for `*`, plus the tailnet ULA prefix.
    static let tailnetRanges: [AddressEntry] = [
        AddressEntry(
            rangeFrom: IPAddress(ipv4: 0x6440_0000),
            to: IPAddress(ipv4: 0x6473_5BFF)
        ),
        AddressEntry(
            rangeFrom: IPAddress(ipv4: 0x6473_5E00),
            to: IPAddress(ipv4: 0x647F_FFFF)
        ),
        AddressEntry(prefix: IPPrefix("fd7a:115c:a1e0::/48")!),
    ]

    /// Address space outside private and tailnet ranges, reached through exit nodes.
    // NOTE: the exact prefix list Tailscale uses for autogroup:internet is not covered by the
    // recorded vectors; this is all IPv4 minus RFC 1918, CGNAT and link-local, plus 2000::/3.
    static let internetEntries: [AddressEntry] = {
        let excluded = ["10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"]
            .compactMap { IPPrefix($0) }
        let v4 = CIDR.subtract(excluded, from: IPPrefix("0.0.0.0/0")!)
        return (v4 + [IPPrefix("2000::/3")!]).map { AddressEntry(prefix: $0) }
    }()

    /// User ids by lowercased email, and by login name.
    private let idsByEmail: [String: [UInt64]]
    private let idsByName: [String: [UInt64]]
    /// User ids of every group, resolved once.
    private let groupUserIDs: [String: Set<UInt64>]

    /// Creates a resolver. Without `indexingNodes`, only `matches(_:_:)` and `userIDs(for:)` may be
    /// used, which saves building the node indexes.
    init(policy: Policy, tailnet: PolicyTailnet, indexingNodes: Bool = true) {
        self.policy = policy
        self.tailnet = tailnet
        var byEmail: [String: [UInt64]] = [:]
        var byName: [String: [UInt64]] = [:]
        for user in tailnet.users {
            if !user.email.isEmpty { byEmail[user.email.lowercased(), default: []].append(user.id) }
            byName[user.name, default: []].append(user.id)
        }
        idsByEmail = byEmail
        idsByName = byName
        var groups: [String: Set<UInt64>] = [:]
        for (name, members) in policy.groups {
            groups[name] = Set(members.flatMap { AliasResolver.userIDs(token: $0, byEmail: byEmail, byName: byName) })
        }
        groupUserIDs = groups
        index = TailnetIndex(tailnet: indexingNodes ? tailnet : PolicyTailnet(users: [], nodes: [], serverURL: ""))
    }

    /// Ids of the users a user token refers to: by email first, then by login name (`alice@` or the whole token).
    // NOTE: Headscale 0.29 rejects a token that matches several users; here all of them match.
    private static func userIDs(token: String, byEmail: [String: [UInt64]], byName: [String: [UInt64]]) -> [UInt64] {
        if let ids = byEmail[token.lowercased()] { return ids }
        let name = token.hasSuffix("@") ? String(token.dropLast()) : token
        return (byName[name] ?? []) + (name == token ? [] : byName[token] ?? [])
    }

    func userIDs(for alias: PolicyAlias) -> Set<UInt64> {
        switch alias {
        case .user(let token):
            if let cached = index.userIDsByToken[token] { return cached }
            let ids = Set(AliasResolver.userIDs(token: token, byEmail: idsByEmail, byName: idsByName))
            index.userIDsByToken[token] = ids
            return ids
        case .group(let name):
            return groupUserIDs[name] ?? []
        default:
            return []
        }
    }

    /// True when `node` is one of the nodes `alias` names.
    func matches(_ node: PolicyNode, _ alias: PolicyAlias) -> Bool {
        switch alias {
        case .wildcard, .autogroup(.dangerAll):
            return true
        case .user, .group:
            guard !node.isTagged, let owner = node.userID else { return false }
            return userIDs(for: alias).contains(owner)
        case .tag(let name):
            return node.tags.contains(name)
        case .autogroup(.member):
            return !node.isTagged
        case .autogroup(.tagged):
            return node.isTagged
        case .host(let name):
            guard let prefix = policy.hosts[name] else { return false }
            return node.addresses.contains(where: prefix.contains)
        case .prefix(let prefix):
            return node.addresses.contains(where: prefix.contains)
        case .autogroup(.self), .autogroup(.internet), .autogroup(.nonroot):
            return false
        }
    }

    func nodes(_ alias: PolicyAlias) -> [PolicyNode] {
        positions(alias).map { tailnet.nodes[$0] }
    }

    /// Positions in `tailnet.nodes` of the nodes `alias` names, ascending.
    func positions(_ alias: PolicyAlias) -> [Int] {
        switch alias {
        case .user, .group:
            let owners = userIDs(for: alias)
            if owners.count == 1, let owner = owners.first { return index.ownedPositions[owner] ?? [] }
            return owners.flatMap { index.ownedPositions[$0] ?? [] }.sorted()
        case .tag(let name):
            return index.taggedPositions[name] ?? []
        case .autogroup(.member):
            return index.memberPositions
        case .autogroup(.tagged):
            return index.anyTagPositions
        default:
            return tailnet.nodes.indices.filter { matches(tailnet.nodes[$0], alias) }
        }
    }

    /// Filter entries for an alias. As a source, `*` adds every approved subnet route (exit routes excluded).
    func entries(_ alias: PolicyAlias, asSource: Bool) -> [AddressEntry] {
        let key = TailnetIndex.EntriesKey(alias: alias, asSource: asSource)
        if let cached = index.entriesByAlias[key] { return cached }
        let result = resolveEntries(alias, asSource: asSource)
        index.entriesByAlias[key] = result
        return result
    }

    /// Returns the positions of the nodes that may send from an address in `entries`: their own
    /// address, or a subnet they route.
    func sendingPositions(_ entries: [AddressEntry]) -> NodeBitSet {
        var result = NodeBitSet(count: tailnet.nodes.count)
        for entry in entries {
            result.formUnion(index.sendingPositions(entry, nodes: tailnet.nodes))
        }
        return result
    }

    private func resolveEntries(_ alias: PolicyAlias, asSource: Bool) -> [AddressEntry] {
        switch alias {
        case .wildcard:
            guard asSource else { return [.wildcard] }
            var result = AliasResolver.tailnetRanges
            for node in tailnet.nodes {
                result += node.approvedSubnetRoutes.map { AddressEntry(prefix: $0) }
            }
            return result
        case .autogroup(.dangerAll):
            return [.wildcard]
        case .host(let name):
            return policy.hosts[name].map { [AddressEntry(prefix: $0)] } ?? []
        case .prefix(let prefix):
            return [AddressEntry(prefix: prefix)]
        case .autogroup(.internet):
            return asSource ? [] : AliasResolver.internetEntries
        case .autogroup(.self), .autogroup(.nonroot):
            return []
        case .user, .group, .tag, .autogroup(.member), .autogroup(.tagged):
            return positions(alias).flatMap { index.addressEntries[$0] }
        }
    }
}

/// CIDR arithmetic used to build address lists.
enum CIDR {
    /// Returns the prefixes of `base` not covered by any of `excluded`, in address order.
    static func subtract(_ excluded: [IPPrefix], from base: IPPrefix) -> [IPPrefix] {
        if excluded.contains(where: { $0.length <= base.length && $0.contains(base.address) }) { return [] }
        let inside = excluded.filter { base.overlaps($0) }
        if inside.isEmpty { return [base] }
        let width = base.address.bitWidth
        let halfBit = UInt128(1) << (width - base.length - 1)
        let upperValue = base.address.value | halfBit
        let upper = base.address.isIPv6 ? IPAddress(ipv6: upperValue) : IPAddress(ipv4: UInt32(upperValue))
        let lowerHalf = IPPrefix(base.address, length: base.length + 1)
        let upperHalf = IPPrefix(upper, length: base.length + 1)
        return subtract(inside, from: lowerHalf) + subtract(inside, from: upperHalf)
    }
}
