import HSCore

/// A destination entry before per-node reduction: the address entry and one port range.
struct CompiledDestination: Hashable, Sendable {
    let entry: AddressEntry
    let ports: PortRange
    /// True for `autogroup:internet` entries, which only exit nodes serve.
    let isInternet: Bool
}

/// A filter rule before per-node reduction, with the address ranges kept for matching.
struct CompiledRule: Sendable {
    var sources: [AddressEntry]
    var destinations: [CompiledDestination]
    var protocols: [Int]
    var capabilityDestinations: [AddressEntry] = []
    var capMap: [(name: String, values: [JSONValue])] = []
    /// Positions of the nodes that may send from `sources` (their own address or an approved subnet
    /// route), computed once per compilation for peer visibility.
    var sourceNodes: NodeBitSet
    /// Equal for rules with the same sources (in any order) and protocols, which merge into one;
    /// -1 for capability rules, which never merge.
    var mergeKey: Int = -1

    init(sources: [AddressEntry], destinations: [CompiledDestination], protocols: [Int], sourceNodes: NodeBitSet) {
        self.sources = sources
        self.destinations = destinations
        self.protocols = protocols
        self.sourceNodes = sourceNodes
    }

    var isCapabilityRule: Bool { !capMap.isEmpty }
}

/// A position in the tailnet-wide rule list: one rule for everyone, an `autogroup:self` rule that
/// differs per user, or a `via` grant's rule that only the routers it names receive.
enum RuleSlot: Sendable {
    case shared(CompiledRule)
    case perUser([UInt64: CompiledRule])
    /// Rules by node position (in `PolicyTailnet.nodes`); nodes without an entry get nothing.
    case perNode([Int: CompiledRule])
}

/// Numbers rules by sources (in any order) and protocols; rules with equal numbers merge.
struct MergeKeyTable: Sendable {
    private var sourceKeys: [[String]: Int] = [:]
    private var mergeKeys: [MergeKey: Int] = [:]

    private struct MergeKey: Hashable {
        let sources: Int
        let protocols: [Int]
    }

    mutating func key(sources: [AddressEntry], protocols: [Int]) -> Int {
        key(sourceKey: sourceKey(sources), protocols: protocols)
    }

    /// Numbers source lists: equal numbers for the same source texts in any order.
    mutating func sourceKey(_ sources: [AddressEntry]) -> Int {
        let texts = sources.map(\.text).sorted()
        if let known = sourceKeys[texts] { return known }
        let sourceKey = sourceKeys.count
        sourceKeys[texts] = sourceKey
        return sourceKey
    }

    /// Returns the merge key of rules whose sources have number `sourceKey` (from `sourceKey(_:)`).
    mutating func key(sourceKey: Int, protocols: [Int]) -> Int {
        let key = MergeKey(sources: sourceKey, protocols: protocols)
        if let known = mergeKeys[key] { return known }
        let value = mergeKeys.count
        mergeKeys[key] = value
        return value
    }
}

/// Turns `acls` and `grants` into the tailnet-wide, ordered rule list.
///
/// Order follows the policy: every ACL (then every grant) yields its non-self rule first and its
/// `autogroup:self` rule second. Shared rules with equal sources and protocols are merged here;
/// `CompiledTailnetPolicy` merges once more per node, after reduction, which joins `autogroup:self` rules.
struct FilterCompiler {
    let resolver: AliasResolver
    private let memo: Memo

    /// Creates a compiler; `keys` continues the merge-key numbering of an earlier compilation, so
    /// that its rules and this one's merge consistently.
    init(resolver: AliasResolver, keys: MergeKeyTable = MergeKeyTable()) {
        self.resolver = resolver
        memo = Memo(keys: keys)
    }

    /// Source lists and merge keys already built in this compilation, so repeated sources cost one lookup.
    private final class Memo {
        var sourcesByAliases: [[PolicyAlias]: ResolvedSources] = [:]
        var keys: MergeKeyTable

        init(keys: MergeKeyTable) {
            self.keys = keys
        }
    }

    /// The merge keys numbered so far.
    var keys: MergeKeyTable { memo.keys }

    /// Returns the merge key of a rule with these sources and protocols.
    private func mergeKey(sources: [AddressEntry], protocols: [Int]) -> Int {
        memo.keys.key(sources: sources, protocols: protocols)
    }

    /// Returns the merged slots of the whole policy (see `SlotMerger`).
    func compile() -> [RuleSlot] {
        SlotMerger.merge(ruleSlots(), reusing: nil).slots
    }

    /// The number of policy rules that yield slots: every ACL, then every grant.
    var ruleCount: Int { resolver.policy.acls.count + resolver.policy.grants.count }

    /// Returns the unmerged slots of every policy rule, ACLs first, then grants.
    func ruleSlots() -> [[RuleSlot]] {
        (0..<ruleCount).map(slots(ofRule:))
    }

    /// Returns the unmerged slots of one policy rule: ACL `index`, or grant `index - acls.count`.
    func slots(ofRule index: Int) -> [RuleSlot] {
        let acls = resolver.policy.acls
        if index < acls.count {
            let rule = acls[index]
            let targets = rule.destinations.map { ($0.alias, $0.ports) }
            return ipSlots(sources: rule.sources, targets: targets, protocols: rule.protocols)
        }
        let grant = resolver.policy.grants[index - acls.count]
        if !grant.via.isEmpty {
            return viaSlots(grant)
        }
        var slots: [RuleSlot] = []
        for (protocols, ports) in grant.ip {
            let targets = grant.destinations.map { ($0, [PortRange](ports)) }
            slots += ipSlots(sources: grant.sources, targets: targets, protocols: protocols)
        }
        if !grant.app.isEmpty {
            slots += capabilitySlots(grant)
        }
        return slots
    }

    /// A source alias list resolved once per compilation: its deduplicated entries, the nodes
    /// that send from them, and the number of the entries in `MergeKeyTable`.
    private struct ResolvedSources {
        let entries: [AddressEntry]
        let senders: NodeBitSet
        let sourceKey: Int
    }

    /// Returns the deduplicated source entries of `sources` and the nodes that send from them.
    private func sourceEntries(_ sources: [PolicyAlias]) -> ([AddressEntry], NodeBitSet) {
        let resolved = resolvedSources(sources)
        return (resolved.entries, resolved.senders)
    }

    private func resolvedSources(_ sources: [PolicyAlias]) -> ResolvedSources {
        if let cached = memo.sourcesByAliases[sources] { return cached }
        var seen: Set<String> = []
        var result: [AddressEntry] = []
        for entry in sources.flatMap({ resolver.entries($0, asSource: true) }) where seen.insert(entry.text).inserted {
            result.append(entry)
        }
        let resolved = ResolvedSources(
            entries: result,
            senders: resolver.sendingPositions(result),
            sourceKey: memo.keys.sourceKey(result)
        )
        memo.sourcesByAliases[sources] = resolved
        return resolved
    }

    private func makeRule(
        sources: [AddressEntry],
        senders: NodeBitSet,
        destinations: [CompiledDestination],
        protocols: [Int]
    ) -> CompiledRule {
        var rule = CompiledRule(
            sources: sources,
            destinations: destinations,
            protocols: protocols,
            sourceNodes: senders
        )
        rule.mergeKey = mergeKey(sources: sources, protocols: protocols)
        return rule
    }

    /// Builds a rule from resolved sources, whose merge key needs no sorting of source texts.
    private func makeRule(
        sources: ResolvedSources,
        destinations: [CompiledDestination],
        protocols: [Int]
    ) -> CompiledRule {
        var rule = CompiledRule(
            sources: sources.entries,
            destinations: destinations,
            protocols: protocols,
            sourceNodes: sources.senders
        )
        rule.mergeKey = memo.keys.key(sourceKey: sources.sourceKey, protocols: protocols)
        return rule
    }

    /// Builds the slots of one ACL or grant `ip` entry.
    ///
    /// Destinations that are not autogroups come first, as one rule. Autogroup destinations follow in
    /// policy order, each as its own slot, so that merging reproduces the rule order of Tailscale's
    /// control plane. There, an `autogroup:self` rule sorts after a user or tag destination of the same
    /// ACL, but before a later `autogroup:member` one.
    private func ipSlots(
        sources: [PolicyAlias],
        targets: [(PolicyAlias, [PortRange])],
        protocols: [Int]
    ) -> [RuleSlot] {
        let resolved = resolvedSources(sources)
        var slots: [RuleSlot] = []
        func appendShared(_ group: [(PolicyAlias, [PortRange])]) {
            let destinations = compiledDestinations(group)
            if !destinations.isEmpty && !resolved.entries.isEmpty {
                slots.append(.shared(makeRule(sources: resolved, destinations: destinations, protocols: protocols)))
            }
        }
        appendShared(targets.filter { !$0.0.isAutogroup })
        for target in targets where target.0.isAutogroup {
            if target.0 == .autogroup(.self) {
                let perUser = selfRules(sources: sources, ports: target.1, protocols: protocols)
                if !perUser.isEmpty { slots.append(.perUser(perUser)) }
            } else {
                appendShared([target])
            }
        }
        return slots
    }

    private func compiledDestinations(_ targets: [(PolicyAlias, [PortRange])]) -> [CompiledDestination] {
        var destinations: [CompiledDestination] = []
        for (alias, ports) in targets {
            let isInternet = alias == .autogroup(.internet)
            for entry in resolver.entries(alias, asSource: false) {
                for range in ports {
                    destinations.append(CompiledDestination(entry: entry, ports: range, isInternet: isInternet))
                }
            }
        }
        return destinations
    }

    /// Builds, for every user, the rule letting that user's matching source devices reach all their devices.
    private func selfRules(sources: [PolicyAlias], ports: [PortRange], protocols: [Int]) -> [UInt64: CompiledRule] {
        var result: [UInt64: CompiledRule] = [:]
        for user in resolver.tailnet.users {
            let owned = (resolver.index.ownedPositions[user.id] ?? []).map { resolver.tailnet.nodes[$0] }
            let sourcing = owned.filter { node in sources.contains { resolver.matches(node, $0) } }
            guard !sourcing.isEmpty else { continue }
            let sourceList = sourcing.flatMap { $0.addresses.map(AddressEntry.init(address:)) }
            var destinations: [CompiledDestination] = []
            for node in owned {
                for address in node.addresses {
                    for range in ports {
                        destinations.append(
                            CompiledDestination(entry: AddressEntry(address: address), ports: range, isInternet: false)
                        )
                    }
                }
            }
            result[user.id] = makeRule(
                sources: sourceList,
                senders: resolver.sendingPositions(sourceList),
                destinations: destinations,
                protocols: protocols
            )
        }
        return result
    }

    /// Builds the slots of a grant with `via`, one per `ip` entry.
    ///
    /// Only a node carrying one of the `via` tags receives the rule, and only for the destination
    /// prefixes that overlap one of its approved subnet routes (either one may contain the other).
    /// The rule names the prefix as the policy wrote it. `autogroup:internet` adds the internet
    /// ranges on tagged approved exit nodes. Other destinations (users, tags, hosts, other
    /// autogroups) produce no filter rule, and neither does an `app`-only grant. This follows
    /// `compileViaForNode` in Headscale 0.29.2. Which router each source uses is ``ViaSteering``'s part.
    private func viaSlots(_ grant: GrantRule) -> [RuleSlot] {
        let (sourceList, senders) = sourceEntries(grant.sources)
        guard !grant.ip.isEmpty, !sourceList.isEmpty else { return [] }
        let prefixes = grant.destinations.compactMap { alias -> IPPrefix? in
            if case .prefix(let prefix) = alias { return prefix }
            return nil
        }
        let wantsInternet = grant.destinations.contains(.autogroup(.internet))
        var routers: [(position: Int, served: [IPPrefix], servesInternet: Bool)] = []
        for (position, node) in resolver.tailnet.nodes.enumerated() where grant.via.contains(where: node.tags.contains)
        {
            let routes = node.approvedSubnetRoutes
            let served = prefixes.filter { prefix in routes.contains { $0.overlaps(prefix) } }
            let servesInternet = wantsInternet && node.isApprovedExitNode
            if !served.isEmpty || servesInternet { routers.append((position, served, servesInternet)) }
        }
        guard !routers.isEmpty else { return [] }
        return grant.ip.map { protocols, ports in
            var byNode: [Int: CompiledRule] = [:]
            for router in routers {
                var destinations: [CompiledDestination] = []
                for prefix in router.served {
                    let entry = AddressEntry(text: prefix.description, first: prefix.address, last: prefix.last)
                    for range in ports {
                        destinations.append(CompiledDestination(entry: entry, ports: range, isInternet: false))
                    }
                }
                if router.servesInternet {
                    for entry in AliasResolver.internetEntries {
                        for range in ports {
                            destinations.append(CompiledDestination(entry: entry, ports: range, isInternet: true))
                        }
                    }
                }
                byNode[router.position] = makeRule(
                    sources: sourceList,
                    senders: senders,
                    destinations: destinations,
                    protocols: protocols
                )
            }
            return .perNode(byNode)
        }
    }

    /// Builds the `CapGrant` rules of an `app` grant; destinations are written as prefixes.
    private func capabilitySlots(_ grant: GrantRule) -> [RuleSlot] {
        let (sourceList, senders) = sourceEntries(grant.sources)
        var destinations: [AddressEntry] = []
        for alias in grant.destinations where alias != .autogroup(.self) {
            for entry in resolver.entries(alias, asSource: false) {
                destinations.append(entry)
            }
        }
        guard !sourceList.isEmpty, !destinations.isEmpty else { return [] }
        var rule = CompiledRule(sources: sourceList, destinations: [], protocols: [], sourceNodes: senders)
        rule.capabilityDestinations = destinations
        rule.capMap = grant.app
        return [.shared(rule)]
    }
}
