import HSCore

/// The compiled policy of one node: its filter, SSH policy, visible peers and capabilities.
public struct CompiledNodePolicy: Sendable {
    /// `filterRules` encoded as Tailscale's JSON `PacketFilter` array.
    public let filterJSON: [UInt8]
    /// The node's SSH rules; nil when no rule targets the node.
    public let sshRules: [SSHPolicyRule]?
    /// `{"rules":[...]}` as Tailscale's JSON `SSHPolicy`; nil when `sshRules` is nil.
    public let sshPolicyJSON: [UInt8]?
    /// Node capabilities from `nodeAttrs` (and `randomizeClientPort`): name to values.
    public let capabilities: [String: [JSONValue]]
    /// The node's reduced rules as references into `table`, or the literal rules of an allow-all policy.
    let filter: NodeFilter
    /// Offset in `filterJSON` of each merged rule, for reuse by the next incremental compilation.
    let filterRuleStarts: [UInt32]
    /// Positions (in `nodeIDs`) of the peers the node may see.
    let visibility: NodeBitSet
    /// Every node id of the tailnet by position; one array shared by all nodes of a compilation.
    let nodeIDs: [UInt64]

    /// The node's packet filter, reduced to rules whose destinations are its addresses or routes.
    /// Built from the compiled form on each access.
    public var filterRules: [FilterRule] { filter.wireRules() }

    /// Peers the node may see: those it can reach or that can reach it. Built on each access.
    public var visiblePeerIDs: Set<UInt64> {
        var result = Set<UInt64>(minimumCapacity: 16)
        visibility.forEach { result.insert(nodeIDs[$0]) }
        return result
    }
}

/// A policy compiled against one tailnet: every node's filter, SSH policy, peers and capabilities.
///
/// Compile once whenever the policy, the users or the nodes change, then look nodes up with
/// `node(_:)`. The value is immutable and safe to share between threads.
public struct CompiledTailnetPolicy: Sendable {
    public let nodes: [UInt64: CompiledNodePolicy]
    /// True when the policy allows all traffic between all nodes (no policy, or no `acls` and no
    /// `grants`); every node then has the same filter and sees every other node.
    public let allowsAll: Bool
    /// Position of each node id in the compiled tailnet, for visibility lookups.
    let positionByID: [UInt64: Int]
    let policy: Policy
    /// The intermediate results `recompiled(for:)` reuses; nil for a policy that allows all.
    let state: CompileState?

    /// Compiles `policy` for every node of `tailnet`. A nil policy allows all traffic and has no SSH rules.
    public init(policy: Policy?, tailnet: PolicyTailnet) {
        let policy = policy ?? Policy()
        self.policy = policy
        allowsAll = policy.allowsAll
        let resolver = AliasResolver(policy: policy, tailnet: tailnet)
        positionByID = resolver.index.positionByID
        if policy.allowsAll {
            nodes = CompiledTailnetPolicy.allowAll(resolver: resolver)
            state = nil
        } else {
            (nodes, state) = TailnetReducer(resolver: resolver).compile()
        }
    }

    init(policy: Policy, nodes: [UInt64: CompiledNodePolicy], state: CompileState) {
        self.policy = policy
        self.nodes = nodes
        self.state = state
        allowsAll = false
        positionByID = Dictionary(uniqueKeysWithValues: state.tailnet.nodes.enumerated().map { ($1.id, $0) })
    }

    /// Compiles the same policy for `tailnet`, a later version of the compiled tailnet.
    ///
    /// The fast path needs the same users and the same nodes in the same order, with at most a
    /// few nodes changed in anything but their approved routes. Then only the rules that name those
    /// nodes, and the nodes that receive those rules, are compiled again, and everything else is
    /// taken over. In any other case, and for policies that allow all, this is a full compilation.
    /// The result equals `CompiledTailnetPolicy(policy:tailnet:)` either way.
    public func recompiled(for tailnet: PolicyTailnet) -> CompiledTailnetPolicy {
        if let state, let result = IncrementalCompiler(previous: state, nodes: nodes)?.recompile(tailnet) {
            return CompiledTailnetPolicy(policy: policy, nodes: result.nodes, state: result.state)
        }
        return CompiledTailnetPolicy(policy: policy, tailnet: tailnet)
    }

    private static func allowAll(resolver: AliasResolver) -> [UInt64: CompiledNodePolicy] {
        let tailnet = resolver.tailnet
        let ssh = SSHCompiler(resolver: resolver)
        let everything = FilterRule(srcIPs: ["*"], dstPorts: [FilterDestination(ip: "*", ports: .all)])
        let encodedFilter = EncodedFilter(bytes: FilterRule.encode([everything]), ruleStarts: [])
        let nodeIDs = tailnet.nodes.map(\.id)
        var everyone = NodeBitSet(count: nodeIDs.count)
        for position in nodeIDs.indices { everyone.insert(position) }
        var result: [UInt64: CompiledNodePolicy] = [:]
        for (position, node) in tailnet.nodes.enumerated() {
            var others = everyone
            others.remove(position)
            result[node.id] = CompiledNodePolicy(
                encodedFilter: encodedFilter,
                sshRules: ssh.rules(for: node),
                filter: .literal([everything]),
                visibility: others,
                nodeIDs: nodeIDs,
                capabilities: capabilities(resolver: resolver, node: node)
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
    /// Builds the set on each call; use `isVisible(_:to:)` for single checks.
    public func visiblePeers(of nodeID: UInt64) -> Set<UInt64>? {
        allowsAll ? nil : nodes[nodeID]?.visiblePeerIDs ?? []
    }

    /// True when `viewer` may see `peer`; false when either is not in the tailnet (unless all is allowed).
    public func isVisible(_ peer: UInt64, to viewer: UInt64) -> Bool {
        if allowsAll { return true }
        guard let node = nodes[viewer], let position = positionByID[peer] else { return false }
        return node.visibility.contains(position)
    }

    /// True when both compilations list the same nodes in the same order, so that
    /// `hasSameVisiblePeers(of:as:)` may compare them.
    public func hasSameNodeOrder(as other: CompiledTailnetPolicy) -> Bool {
        positionByID == other.positionByID
    }

    /// True when `nodeID` may see the same peers in both compilations, compared as bit sets without
    /// building `visiblePeers(of:)`. Requires `hasSameNodeOrder(as:)`.
    public func hasSameVisiblePeers(of nodeID: UInt64, as other: CompiledTailnetPolicy) -> Bool {
        nodes[nodeID]?.visibility == other.nodes[nodeID]?.visibility
    }

    /// Returns the node's encoded `SSHPolicy`, or nil to send none.
    public func sshPolicy(for nodeID: UInt64) -> [UInt8]? {
        nodes[nodeID]?.sshPolicyJSON
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
    /// The node's encoded filter with its rule offsets, as `NodeFilter.encode(reusing:)` takes it.
    var encodedFilter: EncodedFilter {
        EncodedFilter(bytes: filterJSON, ruleStarts: filterRuleStarts)
    }

    init(
        encodedFilter: EncodedFilter,
        sshRules: [SSHPolicyRule],
        filter: NodeFilter,
        visibility: NodeBitSet,
        nodeIDs: [UInt64],
        capabilities: [String: [JSONValue]]
    ) {
        filterJSON = encodedFilter.bytes
        filterRuleStarts = encodedFilter.ruleStarts
        self.sshRules = sshRules.isEmpty ? nil : sshRules
        sshPolicyJSON = sshRules.isEmpty ? nil : SSHPolicyRule.encodePolicy(sshRules)
        self.filter = filter
        self.visibility = visibility
        self.nodeIDs = nodeIDs
        self.capabilities = capabilities
    }
}
