/// One subnet route that `via` grants steer for one viewer: the routers the viewer must reach it through.
public struct ViaRoute: Hashable, Sendable {
    /// The route as the routers serve it, in CIDR text such as `10.0.0.0/24`.
    public let prefix: String
    /// Ids of the routers that carry a `via` tag of a grant the viewer matches and serve the route,
    /// ascending. Empty when no such router serves it, so the viewer gets the route from no peer.
    public let routers: [UInt64]

    public init(prefix: String, routers: [UInt64]) {
        self.prefix = prefix
        self.routers = routers
    }
}

/// The routers each viewer must use for the subnet routes that `via` grants steer.
///
/// A viewer is steered for a route when it is a source of a `via` grant whose destinations overlap
/// the route, and some router serves that route (an approved subnet route, exit routes excluded).
/// The routers carrying one of the grant's `via` tags are the viewer's candidates for the route,
/// and the control plane picks one of them that is online. Several matching grants for one route
/// pool their candidates. A route that a grant without `via` (or an ACL) also lets the viewer reach
/// is not steered: the tailnet's primary router serves it, as for everyone else.
///
/// A `via` grant to `autogroup:internet` steers exit routes the same way: the viewer may use only
/// the approved exit nodes that carry a `via` tag, all of them, as exit nodes. A grant without `via`
/// to `autogroup:internet` or `*` turns that off. Viewers are never their own candidates.
/// Immutable and safe to share between threads.
public struct ViaSteering: Sendable, Equatable {
    /// The steered routes of each viewer id, sorted by prefix; viewers without any are absent.
    public let routesByViewer: [UInt64: [ViaRoute]]
    /// The exit nodes each viewer may use, ascending by id. Viewers whose exit routes are not
    /// steered are absent, and an empty list means no exit node.
    public let exitNodesByViewer: [UInt64: [UInt64]]

    /// No viewer is steered: the value for policies without `via` grants.
    public static let none = ViaSteering(routesByViewer: [:])

    public init(routesByViewer: [UInt64: [ViaRoute]], exitNodesByViewer: [UInt64: [UInt64]] = [:]) {
        self.routesByViewer = routesByViewer
        self.exitNodesByViewer = exitNodesByViewer
    }

    /// Computes the steering of `policy` over `tailnet`. Costs one pass over the grants when none
    /// has `via`.
    public init(policy: Policy, tailnet: PolicyTailnet) {
        guard policy.grants.contains(where: { !$0.via.isEmpty }) else {
            self = .none
            return
        }
        let resolver = AliasResolver(policy: policy, tailnet: tailnet)
        (routesByViewer, exitNodesByViewer) = ViaSteeringCompiler(resolver: resolver).compile()
    }

    public var isEmpty: Bool { routesByViewer.isEmpty && exitNodesByViewer.isEmpty }

    /// Returns the steered routes of `viewer`, sorted by prefix; empty when it is not steered.
    public func routes(for viewer: UInt64) -> [ViaRoute] {
        routesByViewer[viewer] ?? []
    }

    /// Returns the exit nodes `viewer` may use, or nil when its exit routes are not steered.
    public func exitNodes(for viewer: UInt64) -> [UInt64]? {
        exitNodesByViewer[viewer]
    }
}

/// Computes ``ViaSteering`` for one policy and tailnet; see there for the rules.
struct ViaSteeringCompiler {
    let resolver: AliasResolver

    /// A policy rule reduced to what steering needs: the viewers it applies to and its destinations.
    private struct Reach {
        var viewers: Set<Int>
        var destinations: [AddressEntry]
        /// True when a destination is `autogroup:internet`.
        var namesInternet: Bool
        /// True when a destination is `autogroup:internet`, or `*` (which covers it).
        var reachesInternet: Bool
        /// The `via` tags, empty for ACLs and grants without `via`.
        var via: [String]
    }

    func compile() -> (routes: [UInt64: [ViaRoute]], exitNodes: [UInt64: [UInt64]]) {
        let nodes = resolver.tailnet.nodes
        let policy = resolver.policy
        let viaRules = policy.grants.filter { !$0.via.isEmpty }.map {
            reach(sources: $0.sources, destinations: $0.destinations, via: $0.via)
        }
        let viewers = viaRules.reduce(into: Set<Int>()) { $0.formUnion($1.viewers) }
        guard !viewers.isEmpty else { return ([:], [:]) }
        let regularRules =
            policy.acls.map { reach(sources: $0.sources, destinations: $0.destinations.map(\.alias), via: []) }
            + policy.grants.filter { $0.via.isEmpty }.map {
                reach(sources: $0.sources, destinations: $0.destinations, via: [])
            }

        var routes: [UInt64: [ViaRoute]] = [:]
        var exits: [UInt64: [UInt64]] = [:]
        for viewer in viewers.sorted() {
            let viaOfViewer = viaRules.filter { $0.viewers.contains(viewer) }
            let regularOfViewer = regularRules.filter { $0.viewers.contains(viewer) }
            let steered = subnetRoutes(of: viewer, via: viaOfViewer, regular: regularOfViewer)
            if !steered.isEmpty { routes[nodes[viewer].id] = steered }
            if let allowed = exitNodes(of: viewer, via: viaOfViewer, regular: regularOfViewer) {
                exits[nodes[viewer].id] = allowed
            }
        }
        return (routes, exits)
    }

    /// Returns the viewer's steered subnet routes with their candidate routers, sorted by prefix.
    private func subnetRoutes(of viewer: Int, via: [Reach], regular: [Reach]) -> [ViaRoute] {
        let nodes = resolver.tailnet.nodes
        var candidates: [IPPrefix: Set<UInt64>] = [:]
        for rule in via {
            for position in resolver.index.routerPositions where position != viewer {
                let router = nodes[position]
                let carriesTag = rule.via.contains(where: router.tags.contains)
                for route in router.approvedSubnetRoutes where rule.destinations.contains(where: { $0.overlaps(route) })
                {
                    // A route only untagged routers serve is still steered, to no router.
                    var pool = candidates[route] ?? []
                    if carriesTag { pool.insert(router.id) }
                    candidates[route] = pool
                }
            }
        }
        let reachable = regular.flatMap(\.destinations)
        return candidates.filter { route, _ in !reachable.contains { $0.overlaps(route) } }
            .map { ViaRoute(prefix: $0.key.description, routers: $0.value.sorted()) }
            .sorted { $0.prefix < $1.prefix }
    }

    /// Returns the exit nodes the viewer may use, ascending by id, or nil when no `via` grant to
    /// `autogroup:internet` applies or a grant without `via` lets the viewer reach the internet.
    private func exitNodes(of viewer: Int, via: [Reach], regular: [Reach]) -> [UInt64]? {
        let internetRules = via.filter(\.namesInternet)
        guard !internetRules.isEmpty, !regular.contains(where: \.reachesInternet) else { return nil }
        let nodes = resolver.tailnet.nodes
        return nodes.indices.filter { position in
            position != viewer && nodes[position].isApprovedExitNode
                && internetRules.contains { $0.via.contains(where: nodes[position].tags.contains) }
        }
        .map { nodes[$0].id }
    }

    /// Resolves one rule: the positions of the nodes its sources name, and its destination entries.
    /// `autogroup:internet` is left out, because only exit routes serve it.
    private func reach(sources: [PolicyAlias], destinations: [PolicyAlias], via: [String]) -> Reach {
        var viewers = Set<Int>()
        for alias in sources {
            viewers.formUnion(resolver.positions(alias))
        }
        let entries = destinations.filter { $0 != .autogroup(.internet) }.flatMap {
            resolver.entries($0, asSource: false)
        }
        let namesInternet = destinations.contains(.autogroup(.internet))
        return Reach(
            viewers: viewers,
            destinations: entries,
            namesInternet: namesInternet,
            reachesInternet: namesInternet || entries.contains(where: \.isWildcard),
            via: via
        )
    }
}
