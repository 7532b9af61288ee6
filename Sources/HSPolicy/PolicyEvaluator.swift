import HSCore

/// Evaluates a policy over a tailnet offline and reports what each node would receive, in the shape
/// of a policy compatibility vector's `results`.
///
/// Output layout (object members in this order, nodes and peers sorted by name):
///
///     {"nodes": {"<name>": {
///         "packet_filter_rules": [FilterRule...] or null when the node gets no rules,
///         "ssh_rules": [SSHRule...] or null when the node gets no SSH policy,
///         "primary_routes": ["10.0.0.0/8", ...]          (only when the node is primary for any),
///         "cap_map": {"<capability>": null, ...} or null when the policy grants the node none,
///         "peers": [{"name": "...", "allowed_ips": [...], "primary_routes": [...] (only when any)}]}}}
///
/// Every node is taken as online. The primary router of a subnet prefix is the earliest-created
/// node that advertises and has approved it. A peer's `allowed_ips` are its own addresses as /32
/// and /128, then the routes it carries for the viewing node (see `PeerRouteView`: primary routes
/// after `via` steering, reduced to those the viewer may use), then its approved exit routes. The
/// peer's `primary_routes` lists the same subnet routes.
public enum PolicyEvaluator {
    /// The server URL the policy compatibility vectors were recorded with; it appears in SSH `check`
    /// actions as `<url>/machine/ssh/action/...`.
    public static let placeholderServerURL = "https://unused"

    /// Parses `policyText`, runs its `tests` and `sshTests` blocks against `topology`, compiles it and
    /// returns every node's packet filter, SSH rules, primary routes, capabilities and peers.
    ///
    /// - Parameter serverURL: the base URL written into SSH `check` actions.
    /// - Throws: `PolicyError` when the policy is invalid or one of its tests fails.
    public static func evaluate(
        policy policyText: String,
        topology: PolicyTopology,
        serverURL: String = placeholderServerURL
    ) throws(PolicyError) -> JSONValue {
        let policy = try Policy.parse(policyText)
        let tailnet = topology.tailnet(serverURL: serverURL)
        try policy.runTests(against: tailnet)
        let compiled = CompiledTailnetPolicy(policy: policy, tailnet: tailnet)
        let primaries = primaryRoutes(of: topology.nodes)
        var reach = RouteReach(nodes: topology.nodes, compiled: compiled)
        let steering = compiled.viaSteering()
        let served = Dictionary(
            uniqueKeysWithValues: topology.nodes.map { node in
                (node.id, Set(node.approvedSubnetRoutes.filter { node.advertisedRoutes.contains($0) }))
            }
        )
        let byID = Dictionary(uniqueKeysWithValues: topology.nodes.map { ($0.id, $0) })
        var members: [(String, JSONValue)] = []
        for node in topology.nodes.sorted(by: { $0.hostname < $1.hostname }) {
            guard let result = compiled.node(node.id) else { continue }
            var fields: [(String, JSONValue)] = [
                ("packet_filter_rules", try rulesValue(result.filterJSON)),
                ("ssh_rules", try sshRulesValue(result.sshPolicyJSON)),
            ]
            if let own = primaries[node.id], !own.isEmpty {
                fields.append(("primary_routes", strings(own)))
            }
            fields.append(("cap_map", capMapValue(result.capabilities)))
            let peers = result.visiblePeerIDs.compactMap { byID[$0] }.sorted { $0.hostname < $1.hostname }
            let view = PeerRouteView(
                viewer: node,
                primaries: primaries,
                steering: steering,
                served: served
            )
            let peerValues = peers.map { peer in
                peerValue(
                    peer,
                    routes: view.subnetRoutes(of: peer, reach: &reach),
                    exitRoutes: view.exitRoutes(of: peer)
                )
            }
            fields.append(("peers", .array(peerValues)))
            members.append((node.hostname, .object(fields)))
        }
        return .object([("nodes", .object(members))])
    }

    /// Elects the primary router of every subnet prefix: the first node in `nodes` (registration
    /// order) that advertises and has approved it. Exit routes have no primary. Returns each
    /// primary's prefixes, sorted.
    public static func primaryRoutes(of nodes: [PolicyNode]) -> [UInt64: [IPPrefix]] {
        var elected: Set<IPPrefix> = []
        var result: [UInt64: [IPPrefix]] = [:]
        for node in nodes {
            let served = node.approvedSubnetRoutes.filter { node.advertisedRoutes.contains($0) }
            for route in served where elected.insert(route).inserted {
                result[node.id, default: []].append(route)
            }
        }
        return result.mapValues { $0.sorted() }
    }

    private static func peerValue(_ peer: PolicyNode, routes: [IPPrefix], exitRoutes: [IPPrefix]) -> JSONValue {
        let own = peer.addresses.map { IPPrefix($0, length: $0.bitWidth) }
        var fields: [(String, JSONValue)] = [
            ("name", .string(peer.hostname)),
            ("allowed_ips", strings(own + routes + exitRoutes)),
        ]
        if !routes.isEmpty {
            fields.append(("primary_routes", strings(routes)))
        }
        return .object(fields)
    }

    /// Decodes the encoded filter; an empty filter becomes `null`, as in the recordings.
    private static func rulesValue(_ json: [UInt8]) throws(PolicyError) -> JSONValue {
        let value = try HuJSON.parse(json)
        return value.arrayValue?.isEmpty == true ? .null : value
    }

    /// Decodes the `rules` of an encoded SSH policy, or returns `null` when the node gets no SSH policy.
    private static func sshRulesValue(_ json: [UInt8]?) throws(PolicyError) -> JSONValue {
        guard let json else { return .null }
        return try HuJSON.parse(json)["rules"] ?? .null
    }

    /// Returns the node's capabilities from `nodeAttrs` and `randomizeClientPort`, sorted by name.
    /// A capability without values maps to null, and a node without capabilities gets null.
    private static func capMapValue(_ capabilities: [String: [JSONValue]]) -> JSONValue {
        guard !capabilities.isEmpty else { return .null }
        return .object(
            capabilities.sorted { $0.key < $1.key }.map { ($0.key, $0.value.isEmpty ? .null : .array($0.value)) }
        )
    }

    private static func strings(_ prefixes: [IPPrefix]) -> JSONValue {
        .array(prefixes.map { .string($0.description) })
    }
}
