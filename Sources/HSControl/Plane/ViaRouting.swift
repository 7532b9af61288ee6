import HSCore
import HSPolicy

/// Per-viewer route steering from `via` grants, applied on top of the tailnet-wide primary routes.
///
/// ``ViaSteering`` names, per viewer and subnet route, the routers that carry a `via` tag. Each
/// distinct pair of route and candidate routers elects one online router that serves the route,
/// by the rule of ``RouteTable``: the current one while it stays online and keeps serving the
/// route, otherwise the lowest id. A steered viewer then sees the route on the elected router
/// only, and not on the tailnet's primary router, in both `AllowedIPs` and `PrimaryRoutes`. When
/// no candidate is online, the viewer sees the route on no peer. A viewer whose exit routes are
/// steered sees them only on its candidate exit nodes. Everything else about peer entries stays
/// as for every other viewer.
///
/// The value stores, per steered viewer, the peers whose routes it sees differently (its
/// overrides), and which of those viewers' entries must be sent again. Without `via` grants it
/// is empty and every method returns at once.
struct ViaRouting: Sendable {
    /// A steered route together with its candidate routers; viewers with equal groups share the
    /// elected router.
    struct Group: Hashable, Sendable {
        var prefix: String
        var routers: [UInt64]
    }

    /// The routes one viewer sees on one peer, where they differ from the peer's shared entry.
    struct PeerView: Hashable, Sendable {
        var primaryRoutes: [String]
        var showsExitRoutes = true
    }

    /// The route state that steering applies to.
    struct Routes {
        /// The tailnet-wide primary router of each subnet route.
        var primaries: [String: UInt64] = [:]
        /// The online routers serving each subnet route.
        var servers: [String: Set<UInt64>] = [:]
        /// The nodes serving exit routes, online or not.
        var exitNodes: Set<UInt64> = []
    }

    private(set) var steering = ViaSteering.none
    /// The elected router of each group that has an online candidate.
    private var elected: [Group: UInt64] = [:]
    /// For each steered viewer, the view of each peer that it sees with other routes.
    private(set) var overrides: [UInt64: [UInt64: PeerView]] = [:]
    /// The viewers that have an override for each peer.
    private var viewersByPeer: [UInt64: Set<UInt64>] = [:]
    /// For each viewer, the peers whose entries it must get again.
    private var pending: [UInt64: Set<UInt64>] = [:]

    /// True when nothing is steered and nothing is waiting to be sent.
    var isIdle: Bool { steering.isEmpty && overrides.isEmpty && pending.isEmpty }

    /// Returns the routes `viewer` sees on `peer`, or nil when it sees the shared entry.
    func view(of peer: UInt64, for viewer: UInt64) -> PeerView? {
        overrides[viewer]?[peer]
    }

    /// True when some viewer sees `peer` with routes of its own.
    func isOverridden(_ peer: UInt64) -> Bool {
        viewersByPeer[peer] != nil
    }

    /// Replaces the steering, as after a policy change, and computes the overrides again.
    mutating func setSteering(_ steering: ViaSteering, routes: Routes) {
        guard steering != self.steering || !steering.isEmpty else { return }
        self.steering = steering
        refresh(routes)
    }

    /// Elects the routers again and computes the overrides from `routes`. Records the viewers and
    /// peers whose routes changed for ``takePending()``.
    mutating func refresh(_ routes: Routes) {
        guard !steering.isEmpty || !overrides.isEmpty else { return }
        var newElected: [Group: UInt64] = [:]
        var newOverrides: [UInt64: [UInt64: PeerView]] = [:]
        var sharedViews: [UInt64: PeerView] = [:]
        let viewers = Set(steering.routesByViewer.keys).union(steering.exitNodesByViewer.keys)
        for viewer in viewers {
            var views: [UInt64: PeerView] = [:]
            func view(of peer: UInt64) -> PeerView {
                if let known = views[peer] ?? sharedViews[peer] { return known }
                let shared = PeerView(primaryRoutes: routes.primaries.filter { $0.value == peer }.map(\.key).sorted())
                sharedViews[peer] = shared
                return shared
            }
            for route in steering.routes(for: viewer) {
                let group = Group(prefix: route.prefix, routers: route.routers)
                let chosen = newElected[group] ?? elect(group, servers: routes.servers[route.prefix] ?? [])
                if let chosen { newElected[group] = chosen }
                let primary = routes.primaries[route.prefix]
                guard chosen != primary else { continue }
                if let primary {
                    var primaryView = view(of: primary)
                    primaryView.primaryRoutes.removeAll { $0 == route.prefix }
                    views[primary] = primaryView
                }
                if let chosen {
                    var chosenView = view(of: chosen)
                    chosenView.primaryRoutes = (chosenView.primaryRoutes + [route.prefix]).sorted()
                    views[chosen] = chosenView
                }
            }
            if let allowed = steering.exitNodes(for: viewer) {
                for node in routes.exitNodes where node != viewer && !allowed.contains(node) {
                    var exitView = view(of: node)
                    exitView.showsExitRoutes = false
                    views[node] = exitView
                }
            }
            if !views.isEmpty { newOverrides[viewer] = views }
        }
        recordChanges(from: overrides, to: newOverrides)
        elected = newElected
        overrides = newOverrides
        viewersByPeer = [:]
        for (viewer, peers) in newOverrides {
            for peer in peers.keys { viewersByPeer[peer, default: []].insert(viewer) }
        }
    }

    /// Picks the group's router: the current one while it stays online and keeps serving the
    /// route. Otherwise it picks the candidate with the lowest id that does, or nil when none does.
    private func elect(_ group: Group, servers: Set<UInt64>) -> UInt64? {
        if let current = elected[group], servers.contains(current) { return current }
        return group.routers.first(where: servers.contains)
    }

    private mutating func recordChanges(
        from old: [UInt64: [UInt64: PeerView]],
        to new: [UInt64: [UInt64: PeerView]]
    ) {
        for viewer in Set(old.keys).union(new.keys) {
            let before = old[viewer] ?? [:]
            let after = new[viewer] ?? [:]
            for peer in Set(before.keys).union(after.keys) where before[peer] != after[peer] {
                pending[viewer, default: []].insert(peer)
            }
        }
    }

    /// Records that `peer`'s entry changed, so the viewers with an override for it need it again.
    mutating func notePeerChanged(_ peer: UInt64) {
        guard let viewers = viewersByPeer[peer] else { return }
        for viewer in viewers {
            pending[viewer, default: []].insert(peer)
        }
    }

    /// Records the overrides for which `isStale(viewer, peer)` is true as changed, so those
    /// viewers get their own entries of those peers again.
    mutating func noteOverridesChanged(where isStale: (UInt64, UInt64) -> Bool) {
        for (viewer, peers) in overrides {
            for peer in peers.keys where isStale(viewer, peer) {
                pending[viewer, default: []].insert(peer)
            }
        }
    }

    /// Returns and clears the viewers and peers whose entries must be sent again.
    mutating func takePending() -> [UInt64: Set<UInt64>] {
        defer { pending = [:] }
        return pending
    }
}
