import HSCore
import HSPolicy

extension CompiledTailnetPolicy: CompiledPolicy {
    func capabilities(for nodeID: UInt64) -> [String: [JSONValue]] {
        node(nodeID)?.capabilities ?? [:]
    }
}

/// Compiles a parsed policy with the policy engine for the control plane's nodes and users.
struct PolicyEngineCompiler: PolicyCompiling {
    let policy: Policy
    let serverURL: String

    func compile(nodes: [ControlNode], users: [ControlUser]) -> any CompiledPolicy {
        if policy.allowsAll {
            return AllowAllPolicy()
        }
        return CompiledTailnetPolicy(
            policy: policy,
            tailnet: Self.tailnet(nodes: nodes, users: users, serverURL: serverURL)
        )
    }

    /// Recompiles only what the changed nodes affect when `previous` came from this compiler.
    func compile(nodes: [ControlNode], users: [ControlUser], previous: any CompiledPolicy) -> any CompiledPolicy {
        guard !policy.allowsAll, let previous = previous as? CompiledTailnetPolicy else {
            return compile(nodes: nodes, users: users)
        }
        return previous.recompiled(for: Self.tailnet(nodes: nodes, users: users, serverURL: serverURL))
    }

    func autoApprovedRoutes(for node: ControlNode, users: [ControlUser]) -> [String] {
        policy.autoApprovedRoutes(
            for: Self.policyNode(node),
            users: users.map { PolicyUser(id: $0.id, name: $0.name, email: $0.email) }
        ).map(\.description)
    }

    func allowsTags(_ tags: [String], userID: UInt64, users: [ControlUser]) -> Bool {
        let policyUsers = users.map { PolicyUser(id: $0.id, name: $0.name, email: $0.email) }
        guard let user = policyUsers.first(where: { $0.id == userID }) else { return false }
        return policy.allowsTags(tags, for: user, users: policyUsers)
    }

    /// Builds the engine's view of the tailnet, with nodes in registration order as the engine
    /// requires, and users by id so that equal inputs give equal tailnets.
    static func tailnet(nodes: [ControlNode], users: [ControlUser], serverURL: String) -> PolicyTailnet {
        PolicyTailnet(
            users: users.sorted { $0.id < $1.id }.map { PolicyUser(id: $0.id, name: $0.name, email: $0.email) },
            nodes: nodes.sorted { $0.id < $1.id }.map(policyNode),
            serverURL: serverURL
        )
    }

    static func policyNode(_ node: ControlNode) -> PolicyNode {
        let advertised = node.hostinfo?["RoutableIPs"]?.arrayValue?.compactMap(\.stringValue) ?? []
        return PolicyNode(
            id: node.id,
            hostname: node.givenName,
            ipv4: node.ipv4.flatMap { IPAddress($0) },
            ipv6: node.ipv6.flatMap { IPAddress($0) },
            userID: node.userID,
            tags: node.tags,
            advertisedRoutes: advertised.compactMap { IPPrefix($0) },
            approvedRoutes: node.approvedRoutes.compactMap { IPPrefix($0) }
        )
    }
}

/// The policy in force while the configured policy cannot be read: no node sees or reaches any
/// other. Used instead of allowing everything, so a broken policy file never opens the tailnet.
struct DenyAllPolicy: CompiledPolicy, PolicyCompiling {
    var allowsAll: Bool { false }

    func packetFilter(for nodeID: UInt64) -> [UInt8] { Array("[]".utf8) }

    func visiblePeers(of nodeID: UInt64) -> Set<UInt64>? { [] }

    func sshPolicy(for nodeID: UInt64) -> [UInt8]? { nil }

    func compile(nodes: [ControlNode], users: [ControlUser]) -> any CompiledPolicy { self }
}
