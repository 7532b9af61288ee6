import HSCore

/// Every filter rule of one compilation, shared and per user, with the JSON fragments that every
/// node receiving the rule shares.
///
/// Nodes refer to rules by id (their index in `rules`), so a rule's sources are resolved and
/// encoded once per compilation however many nodes receive it.
final class RuleTable: Sendable {
    let rules: [CompiledRule]
    /// Per rule: `{"SrcIPs":[...]` for IP rules, the whole object for capability rules.
    let heads: [[UInt8]]
    /// Per rule: `,"IPProto":[...]}` or `}` for IP rules; empty for capability rules.
    let tails: [[UInt8]]
    /// Per rule: a number the rule keeps while later incremental compilations take it over
    /// unchanged, and that no other rule of those compilations gets. Equal numbers in two tables of
    /// one lineage mean equal rules, so a node's encoded rule can be reused across them.
    let stableIDs: [UInt64]

    convenience init(rules: [CompiledRule]) {
        let fragments = rules.map(RuleTable.fragments)
        self.init(
            rules: rules,
            heads: fragments.map(\.head),
            tails: fragments.map(\.tail),
            stableIDs: rules.indices.map { UInt64($0) }
        )
    }

    init(rules: [CompiledRule], heads: [[UInt8]], tails: [[UInt8]], stableIDs: [UInt64]) {
        self.rules = rules
        self.heads = heads
        self.tails = tails
        self.stableIDs = stableIDs
    }

    /// Encodes the parts of a rule that every node receiving it shares.
    static func fragments(_ rule: CompiledRule) -> (head: [UInt8], tail: [UInt8]) {
        if rule.isCapabilityRule {
            let whole = FilterRule.encode([RuleTable.wireRule(rule, destinations: [])])
            return (Array(whole.dropFirst().dropLast()), [])
        }
        var head = JSONWriter(capacity: 32 + rule.sources.count * 24)
        head.beginObject()
        head.key("SrcIPs")
        head.strings(rule.sources.map(\.text))
        var tail: [UInt8] = []
        if !rule.protocols.isEmpty {
            tail += Array(#","IPProto":["#.utf8)
            tail += Array(rule.protocols.map(String.init).joined(separator: ",").utf8)
            tail.append(UInt8(ascii: "]"))
        }
        tail.append(UInt8(ascii: "}"))
        return (head.bytes, tail)
    }

    /// Builds the wire form of a rule restricted to `destinations` (indexes into its destinations).
    static func wireRule(_ rule: CompiledRule, destinations: [Int32]) -> FilterRule {
        let sources = rule.sources.map(\.text)
        if rule.isCapabilityRule {
            let dsts = rule.capabilityDestinations.map { entry in
                entry.isWildcard || entry.text.contains("/") || entry.text.contains("-")
                    ? entry.text : "\(entry.text)/\(entry.first.bitWidth)"
            }
            return FilterRule(
                srcIPs: sources,
                dstPorts: [],
                capGrant: [CapabilityGrant(dsts: dsts, capMap: rule.capMap)]
            )
        }
        let kept = destinations.map { rule.destinations[Int($0)] }
        return FilterRule(
            srcIPs: sources,
            dstPorts: kept.map { FilterDestination(ip: $0.entry.text, ports: $0.ports) },
            ipProto: rule.protocols
        )
    }
}

/// One rule as a node receives it: the rule id and the destinations kept for the node.
struct NodeRulePart: Sendable {
    let rule: Int32
    /// Indexes into the rule's destinations, ascending; empty for a capability rule, which is kept whole.
    let destinations: [Int32]
}

/// A node's packet filter in compiled form.
enum NodeFilter: Sendable {
    /// Rules after merging: each is one or more parts with equal sources and protocols. The first
    /// part supplies the sources and protocols, and the destinations of all parts follow in order.
    case reduced([[NodeRulePart]], RuleTable)
    /// Rules given literally, as for a policy that allows everything.
    case literal([FilterRule])

    func wireRules() -> [FilterRule] {
        switch self {
        case .literal(let rules):
            return rules
        case .reduced(let merged, let table):
            return merged.map { parts in
                var rule = RuleTable.wireRule(table.rules[Int(parts[0].rule)], destinations: parts[0].destinations)
                for part in parts.dropFirst() {
                    rule.dstPorts +=
                        RuleTable.wireRule(table.rules[Int(part.rule)], destinations: part.destinations)
                        .dstPorts
                }
                return rule
            }
        }
    }
}
