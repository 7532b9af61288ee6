/// The routes each peer carries for one viewing node, as `PolicyEvaluator` prints them.
///
/// It starts from the tailnet-wide primary routes and applies `via` steering by the server's rule.
/// A steered route moves to the first of the viewer's candidate routers that serves it (ids ascend,
/// so that is the earliest registered), and to no peer when none does. A viewer whose exit routes
/// are steered sees them only on its candidate exit nodes. Last, `RouteReach` keeps the subnet
/// routes the viewer's policy lets it use.
struct PeerRouteView {
    private let subnetRoutes: [UInt64: [IPPrefix]]
    /// The exit nodes the viewer may use; nil when its exit routes are not steered.
    private let exitNodes: Set<UInt64>?
    private let viewer: PolicyNode
    private let reach: RouteReach

    init(
        viewer: PolicyNode,
        primaries: [UInt64: [IPPrefix]],
        steering: ViaSteering,
        served: [UInt64: Set<IPPrefix>],
        reach: RouteReach
    ) {
        var routes = primaries
        for steered in steering.routes(for: viewer.id) {
            guard let prefix = IPPrefix(steered.prefix) else { continue }
            for (peer, list) in routes where list.contains(prefix) {
                routes[peer] = list.filter { $0 != prefix }
            }
            if let chosen = steered.routers.first(where: { served[$0]?.contains(prefix) == true }) {
                routes[chosen, default: []].append(prefix)
                routes[chosen]?.sort()
            }
        }
        subnetRoutes = routes
        exitNodes = steering.exitNodes(for: viewer.id).map(Set.init)
        self.viewer = viewer
        self.reach = reach
    }

    /// Returns the subnet routes the viewer may use through `peer`, sorted.
    func subnetRoutes(of peer: PolicyNode) -> [IPPrefix] {
        reach.usableRoutes(subnetRoutes[peer.id] ?? [], of: peer, by: viewer)
    }

    /// Returns the approved exit routes of `peer` that are shown to the viewer, sorted.
    func exitRoutes(of peer: PolicyNode) -> [IPPrefix] {
        // NOTE: an unsteered viewer sees every exit node's routes, whatever its policy. The recorded
        // control-plane responses agree, but none shows a viewer without internet access via an exit node.
        if let exitNodes, !exitNodes.contains(peer.id) { return [] }
        return peer.approvedRoutes.filter { $0.isDefaultRoute && peer.advertisedRoutes.contains($0) }.sorted()
    }
}
