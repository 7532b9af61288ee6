import HSCore

/// A destination entry before per-node reduction: the address entry and one port range.
struct CompiledDestination: Hashable {
    let entry: AddressEntry
    let ports: PortRange
    /// True for `autogroup:internet` entries, which only exit nodes serve.
    let isInternet: Bool
}

/// A filter rule before per-node reduction, with the address ranges kept for matching.
struct CompiledRule {
    var sources: [AddressEntry]
    var destinations: [CompiledDestination]
    var protocols: [Int]
    var capabilityDestinations: [AddressEntry] = []
    var capMap: [(name: String, values: [JSONValue])] = []
    /// Nodes that may send from `sources` (their own address or an approved subnet route), computed once
    /// per compilation for peer visibility.
    var sourceNodeIDs: [UInt64] = []

    var isCapabilityRule: Bool { !capMap.isEmpty }
}

/// A position in the tailnet-wide rule list: one rule for everyone, or an `autogroup:self` rule
/// that differs per user.
enum RuleSlot {
    case shared(CompiledRule)
    case perUser([UInt64: CompiledRule])
}

/// Turns `acls` and `grants` into the tailnet-wide, ordered rule list.
///
/// Order follows the policy: every ACL (then every grant) yields its non-self rule first and its
/// `autogroup:self` rule second. Shared rules with equal sources and protocols are merged here;
/// `CompiledTailnetPolicy` merges once more per node, after reduction, which joins `autogroup:self` rules.
struct FilterCompiler {
    let resolver: AliasResolver

    func compile() -> [RuleSlot] {
        var slots: [RuleSlot] = []
        for rule in resolver.policy.acls {
            let targets = rule.destinations.map { ($0.alias, $0.ports) }
            slots += ipSlots(sources: rule.sources, targets: targets, protocols: rule.protocols)
        }
        for grant in resolver.policy.grants {
            for (protocols, ports) in grant.ip {
                let targets = grant.destinations.map { ($0, [PortRange](ports)) }
                slots += ipSlots(sources: grant.sources, targets: targets, protocols: protocols)
            }
            if !grant.app.isEmpty {
                slots += capabilitySlots(grant)
            }
        }
        return merge(slots).map(withSourceNodes)
    }

    private func withSourceNodes(_ slot: RuleSlot) -> RuleSlot {
        func annotate(_ rule: CompiledRule) -> CompiledRule {
            var rule = rule
            let senders = resolver.tailnet.nodes.filter { CompiledTailnetPolicy.isSource($0, of: rule.sources) }
            rule.sourceNodeIDs = senders.map(\.id)
            return rule
        }
        switch slot {
        case .shared(let rule): return .shared(annotate(rule))
        case .perUser(let byUser): return .perUser(byUser.mapValues(annotate))
        }
    }

    /// Merges shared IP rules with equal sources and protocols into the first of them, keeping
    /// duplicate destinations. This runs before per-node reduction, so a merged rule keeps the position
    /// of its first part even on nodes that only receive a later part.
    private func merge(_ slots: [RuleSlot]) -> [RuleSlot] {
        var result: [RuleSlot] = []
        var indexByKey: [[String]: Int] = [:]
        for slot in slots {
            guard case .shared(let rule) = slot, !rule.isCapabilityRule else {
                result.append(slot)
                continue
            }
            let key = rule.sources.map(\.text).sorted() + ["|"] + rule.protocols.map(String.init)
            if let index = indexByKey[key], case .shared(var existing) = result[index] {
                existing.destinations += rule.destinations
                result[index] = .shared(existing)
            } else {
                indexByKey[key] = result.count
                result.append(slot)
            }
        }
        return result
    }

    private func sourceEntries(_ sources: [PolicyAlias]) -> [AddressEntry] {
        var seen: Set<String> = []
        var result: [AddressEntry] = []
        for entry in sources.flatMap({ resolver.entries($0, asSource: true) }) where seen.insert(entry.text).inserted {
            result.append(entry)
        }
        return result
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
        let sourceList = sourceEntries(sources)
        var slots: [RuleSlot] = []
        func appendShared(_ group: [(PolicyAlias, [PortRange])]) {
            let destinations = compiledDestinations(group)
            if !destinations.isEmpty && !sourceList.isEmpty {
                slots.append(
                    .shared(CompiledRule(sources: sourceList, destinations: destinations, protocols: protocols))
                )
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
            let owned = resolver.tailnet.nodes.filter { !$0.isTagged && $0.userID == user.id }
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
            result[user.id] = CompiledRule(sources: sourceList, destinations: destinations, protocols: protocols)
        }
        return result
    }

    /// Builds the `CapGrant` rules of an `app` grant; destinations are written as prefixes.
    private func capabilitySlots(_ grant: GrantRule) -> [RuleSlot] {
        let sourceList = sourceEntries(grant.sources)
        var destinations: [AddressEntry] = []
        for alias in grant.destinations where alias != .autogroup(.self) {
            for entry in resolver.entries(alias, asSource: false) {
                destinations.append(entry)
            }
        }
        guard !sourceList.isEmpty, !destinations.isEmpty else { return [] }
        var rule = CompiledRule(sources: sourceList, destinations: [], protocols: [])
        rule.capabilityDestinations = destinations
        rule.capMap = grant.app
        return [.shared(rule)]
    }
}
