import HSCore

/// The compiled policy of one node: its filter, SSH policy, visible peers and capabilities.
public struct CompiledNodePolicy: Sendable {
    /// The node's packet filter, reduced to rules whose destinations are its addresses or routes.
    public let filterRules: [FilterRule]
    /// `filterRules` encoded as Tailscale's JSON `PacketFilter` array.
    public let filterJSON: [UInt8]
    /// The node's SSH rules; nil when no rule targets the node.
    public let sshRules: [SSHPolicyRule]?
    /// `{"rules":[...]}` as Tailscale's JSON `SSHPolicy`; nil when `sshRules` is nil.
    public let sshPolicyJSON: [UInt8]?
    /// Peers the node may see: those it can reach or that can reach it.
    public let visiblePeerIDs: Set<UInt64>
    /// Node capabilities from `nodeAttrs` (and `randomizeClientPort`): name to values.
    public let capabilities: [String: [JSONValue]]
}

/// A policy compiled against one tailnet: every node's filter, SSH policy, peers and capabilities.
///
/// Compile once whenever the policy, the users or the nodes change, then look nodes up with
/// `node(_:)`; lookups do no work. The value is immutable and safe to share between threads.
public struct CompiledTailnetPolicy: Sendable {
    public let nodes: [UInt64: CompiledNodePolicy]
    /// True when the policy allows all traffic between all nodes (no policy, or no `acls` and no
    /// `grants`); every node then has the same filter and sees every other node.
    public let allowsAll: Bool

    /// Compiles `policy` for every node of `tailnet`. A nil policy allows all traffic and has no SSH rules.
    public init(policy: Policy?, tailnet: PolicyTailnet) {
        let policy = policy ?? Policy()
        allowsAll = policy.allowsAll
        if policy.allowsAll {
            nodes = CompiledTailnetPolicy.allowAll(tailnet: tailnet, policy: policy)
        } else {
            nodes = CompiledTailnetPolicy.compileNodes(policy: policy, tailnet: tailnet)
        }
    }

    private static func compileNodes(policy: Policy, tailnet: PolicyTailnet) -> [UInt64: CompiledNodePolicy] {
        let resolver = AliasResolver(policy: policy, tailnet: tailnet)
        let slots = FilterCompiler(resolver: resolver).compile()
        var reduced: [UInt64: [CompiledRule]] = [:]
        for node in tailnet.nodes {
            reduced[node.id] = CompiledTailnetPolicy.reduce(slots, for: node)
        }
        let visibility = CompiledTailnetPolicy.visibility(reduced, nodes: tailnet.nodes)
        let ssh = SSHCompiler(resolver: resolver)
        var result: [UInt64: CompiledNodePolicy] = [:]
        for node in tailnet.nodes {
            let rules = (reduced[node.id] ?? []).map(CompiledTailnetPolicy.wireRule)
            result[node.id] = CompiledNodePolicy(
                filterRules: rules,
                sshRules: ssh.rules(for: node),
                visiblePeerIDs: visibility[node.id] ?? [],
                capabilities: CompiledTailnetPolicy.capabilities(resolver: resolver, node: node)
            )
        }
        return result
    }

    private static func allowAll(tailnet: PolicyTailnet, policy: Policy) -> [UInt64: CompiledNodePolicy] {
        let resolver = AliasResolver(policy: policy, tailnet: tailnet)
        let ssh = SSHCompiler(resolver: resolver)
        let everything = FilterRule(srcIPs: ["*"], dstPorts: [FilterDestination(ip: "*", ports: .all)])
        let allIDs = Set(tailnet.nodes.map(\.id))
        var result: [UInt64: CompiledNodePolicy] = [:]
        for node in tailnet.nodes {
            result[node.id] = CompiledNodePolicy(
                filterRules: [everything],
                sshRules: ssh.rules(for: node),
                visiblePeerIDs: allIDs.subtracting([node.id]),
                capabilities: CompiledTailnetPolicy.capabilities(resolver: resolver, node: node)
            )
        }
        return result
    }

    /// Returns the compiled policy of a node, or nil when the node was not in the tailnet.
    public func node(_ id: UInt64) -> CompiledNodePolicy? {
        nodes[id]
    }

    /// Returns the node's encoded packet filter; `[]` (deny all) for a node not in the tailnet.
    public func packetFilter(for nodeID: UInt64) -> [UInt8] {
        nodes[nodeID]?.filterJSON ?? Array("[]".utf8)
    }

    /// Returns the peers `nodeID` may see, or nil when the policy allows all (every node sees every other).
    public func visiblePeers(of nodeID: UInt64) -> Set<UInt64>? {
        allowsAll ? nil : nodes[nodeID]?.visiblePeerIDs ?? []
    }

    /// Returns the node's encoded `SSHPolicy`, or nil to send none.
    public func sshPolicy(for nodeID: UInt64) -> [UInt8]? {
        nodes[nodeID]?.sshPolicyJSON
    }

    static func wireRule(_ rule: CompiledRule) -> FilterRule {
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
        let destinations = rule.destinations.map { FilterDestination(ip: $0.entry.text, ports: $0.ports) }
        return FilterRule(srcIPs: sources, dstPorts: destinations, ipProto: rule.protocols)
    }

    /// Node capabilities from `nodeAttrs` entries that target the node, plus `randomize-client-port`.
    static func capabilities(resolver: AliasResolver, node: PolicyNode) -> [String: [JSONValue]] {
        var result: [String: [JSONValue]] = [:]
        for rule in resolver.policy.nodeAttrs where rule.targets.contains(where: { resolver.matches(node, $0) }) {
            for attribute in rule.attributes where result[attribute] == nil {
                result[attribute] = []
            }
        }
        if resolver.policy.randomizeClientPort {
            result["randomize-client-port"] = []
        }
        return result
    }
}

extension CompiledNodePolicy {
    init(
        filterRules: [FilterRule],
        sshRules: [SSHPolicyRule],
        visiblePeerIDs: Set<UInt64>,
        capabilities: [String: [JSONValue]]
    ) {
        self.filterRules = filterRules
        filterJSON = FilterRule.encode(filterRules)
        self.sshRules = sshRules.isEmpty ? nil : sshRules
        sshPolicyJSON = sshRules.isEmpty ? nil : SSHPolicyRule.encodePolicy(sshRules)
        self.visiblePeerIDs = visiblePeerIDs
        self.capabilities = capabilities
    }
}
