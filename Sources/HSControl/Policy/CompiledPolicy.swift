import HSCore

/// A policy compiled for one snapshot of the tailnet: each node's packet filter, SSH policy and
/// the peers it may see.
protocol CompiledPolicy: Sendable {
    /// True when every node sees every other and all traffic is allowed; the control plane then
    /// skips all per-node work.
    var allowsAll: Bool { get }

    /// Returns the node's packet filter, an encoded `[FilterRule]`.
    func packetFilter(for nodeID: UInt64) -> [UInt8]

    /// Returns the ids of the peers `nodeID` may see, or nil for all of them.
    func visiblePeers(of nodeID: UInt64) -> Set<UInt64>?

    /// Returns the node's encoded `SSHPolicy`, or nil to send none.
    func sshPolicy(for nodeID: UInt64) -> [UInt8]?

    /// Node capabilities the policy grants (`nodeAttrs`), by capability name.
    func capabilities(for nodeID: UInt64) -> [String: [JSONValue]]

    /// True when `viewer` may see `peer`. Called once per stream for every change, so a policy
    /// that builds `visiblePeers(of:)` on demand should check the single pair without building the set.
    func isVisible(_ peer: UInt64, to viewer: UInt64) -> Bool
}

/// Turns a policy into a ``CompiledPolicy`` for the current nodes and users.
protocol PolicyCompiling: Sendable {
    func compile(nodes: [ControlNode], users: [ControlUser]) -> any CompiledPolicy

    /// Compiles for changed nodes or users; `previous` is this compiler's result for an earlier
    /// snapshot, which an incremental compiler may reuse.
    func compile(nodes: [ControlNode], users: [ControlUser], previous: any CompiledPolicy) -> any CompiledPolicy

    /// Returns the routes `node` advertises that the policy approves without an administrator.
    func autoApprovedRoutes(for node: ControlNode, users: [ControlUser]) -> [String]

    /// True when a device of `userID` may carry every tag in `tags`, per `tagOwners`.
    func allowsTags(_ tags: [String], userID: UInt64, users: [ControlUser]) -> Bool
}

extension PolicyCompiling {
    func compile(nodes: [ControlNode], users: [ControlUser], previous: any CompiledPolicy) -> any CompiledPolicy {
        compile(nodes: nodes, users: users)
    }

    func autoApprovedRoutes(for node: ControlNode, users: [ControlUser]) -> [String] { [] }

    /// True when a device of `userID` may carry every tag in `tags`. Without a policy no tag has
    /// an owner, so none is allowed.
    func allowsTags(_ tags: [String], userID: UInt64, users: [ControlUser]) -> Bool { false }
}

/// The behaviour without a policy: every node sees every other and accepts all traffic.
struct AllowAllPolicy: CompiledPolicy, PolicyCompiling {
    var allowsAll: Bool { true }

    func packetFilter(for nodeID: UInt64) -> [UInt8] { TailnetSettings.allowAllFilter }

    func visiblePeers(of nodeID: UInt64) -> Set<UInt64>? { nil }

    func sshPolicy(for nodeID: UInt64) -> [UInt8]? { nil }

    func compile(nodes: [ControlNode], users: [ControlUser]) -> any CompiledPolicy { self }
}

extension CompiledPolicy {
    func capabilities(for nodeID: UInt64) -> [String: [JSONValue]] { [:] }

    /// True when `viewer` may see `peer`, read from `visiblePeers(of:)`.
    func isVisible(_ peer: UInt64, to viewer: UInt64) -> Bool {
        visiblePeers(of: viewer)?.contains(peer) ?? true
    }
}
