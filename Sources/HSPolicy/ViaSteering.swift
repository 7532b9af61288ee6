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

/// Which routers each viewer must use for the subnet routes that `via` grants steer.
///
/// A viewer is steered for a route when it is a source of a `via` grant whose destinations overlap
/// the route, and some router serves that route (an approved subnet route, exit routes excluded).
/// The routers carrying one of the grant's `via` tags are the viewer's candidates for the route,
/// and the control plane picks one of them that is online. Several matching grants for one route
/// pool their candidates. A route that a grant without `via` (or an ACL) also lets the viewer reach
/// is not steered: the tailnet's primary router serves it, as for everyone else. Viewers are never
/// their own candidates. Immutable and safe to share between threads.
public struct ViaSteering: Sendable, Equatable {
    /// The steered routes of each viewer id, sorted by prefix; viewers without any are absent.
    public let routesByViewer: [UInt64: [ViaRoute]]

    /// No viewer is steered: the value for policies without `via` grants.
    public static let none = ViaSteering(routesByViewer: [:])

    public init(routesByViewer: [UInt64: [ViaRoute]]) {
        self.routesByViewer = routesByViewer
    }

    /// Computes the steering of `policy` over `tailnet`. Costs one pass over the grants when none
    /// has `via`.
    public init(policy: Policy, tailnet: PolicyTailnet) {
        guard policy.grants.contains(where: { !$0.via.isEmpty }) else {
            self = .none
            return
        }
        let resolver = AliasResolver(policy: policy, tailnet: tailnet)
        routesByViewer = ViaSteeringCompiler(resolver: resolver).compile()
    }

    public var isEmpty: Bool { routesByViewer.isEmpty }

    /// Returns the steered routes of `viewer`, sorted by prefix; empty when it is not steered.
    public func routes(for viewer: UInt64) -> [ViaRoute] {
        routesByViewer[viewer] ?? []
    }
}

/// Computes ``ViaSteering`` for one policy and tailnet; see there for the rules.
struct ViaSteeringCompiler {
    let resolver: AliasResolver

    /// A policy rule reduced to what steering needs: the viewers it applies to and its destinations.
    private struct Reach {
        var viewers: Set<Int>
        var destinations: [AddressEntry]
        /// The `via` tags, empty for ACLs and grants without `via`.
        var via: [String]
    }

    func compile() -> [UInt64: [ViaRoute]] {
        let nodes = resolver.tailnet.nodes
        let routers = resolver.index.routerPositions
        let policy = resolver.policy
        let viaRules = policy.grants.filter { !$0.via.isEmpty }.map {
            reach(sources: $0.sources, destinations: $0.destinations, via: $0.via)
        }
        let viewers = viaRules.reduce(into: Set<Int>()) { $0.formUnion($1.viewers) }
        guard !viewers.isEmpty else { return [:] }
        let regularRules =
            policy.acls.map { reach(sources: $0.sources, destinations: $0.destinations.map(\.alias), via: []) }
            + policy.grants.filter { $0.via.isEmpty }.map {
                reach(sources: $0.sources, destinations: $0.destinations, via: [])
            }
        var result: [UInt64: [ViaRoute]] = [:]
        for viewer in viewers.sorted() {
            var candidates: [IPPrefix: Set<UInt64>] = [:]
            for rule in viaRules where rule.viewers.contains(viewer) {
                for position in routers where position != viewer {
                    let router = nodes[position]
                    let carriesTag = rule.via.contains(where: router.tags.contains)
                    for route in router.approvedSubnetRoutes
                    where rule.destinations.contains(where: { $0.overlaps(route) }) {
                        // A route only untagged routers serve is still steered, to no router.
                        var pool = candidates[route] ?? []
                        if carriesTag { pool.insert(router.id) }
                        candidates[route] = pool
                    }
                }
            }
            let regular = regularRules.filter { $0.viewers.contains(viewer) }.flatMap(\.destinations)
            let steered = candidates.filter { route, _ in !regular.contains { $0.overlaps(route) } }
            guard !steered.isEmpty else { continue }
            result[nodes[viewer].id] = steered.map { ViaRoute(prefix: $0.key.description, routers: $0.value.sorted()) }
                .sorted { $0.prefix < $1.prefix }
        }
        return result
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
        return Reach(viewers: viewers, destinations: entries, via: via)
    }
}
