import HSCore
import HSPolicy

/// Per-viewer views of routers' routes: `via` steering applied to the tailnet-wide primary routes,
/// then reduced to the subnet routes the viewer's policy lets it use.
///
/// Steering: ``ViaSteering`` names, per viewer and subnet route, the routers that carry a `via`
/// tag. Each distinct pair of route and candidate routers elects one online router that serves
/// the route, by the rule of ``RouteTable``: the current one while it stays online and keeps
/// serving the route, otherwise the lowest id. A steered viewer then sees the route on the elected
/// router only, and not on the tailnet's primary router, in both `AllowedIPs` and `PrimaryRoutes`.
/// When no candidate is online, the viewer sees the route on no peer. A viewer whose exit routes
/// are steered sees them only on its candidate exit nodes.
///
/// Reachability: with a policy in force, a viewer then keeps only the subnet routes that
/// ``RouteReach`` (shared with `headscale debug policy`) lets it use through each router. Exit
/// routes are not reduced. Primary election does not change: a router stays primary for a prefix
/// even for viewers that may not use it there.
///
/// The value stores, per viewer, the peers whose routes it sees differently from the shared entry
/// (its overrides), and which of those viewers' entries must be sent again. Without `via` grants
/// and with every route usable by every viewer it is empty: full maps and deltas then send the
/// shared entries only.
struct RouteViews: Sendable {
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

    /// The route state that the views apply to.
    struct Routes {
        /// The tailnet-wide primary router of each subnet route.
        var primaries: [String: UInt64] = [:]
        /// The online routers serving each subnet route.
        var servers: [String: Set<UInt64>] = [:]
        /// The nodes serving exit routes, online or not.
        var exitNodes: Set<UInt64> = []
    }

    /// The policy's route checks and the nodes that view routes, or nil when every viewer may use
    /// every route (no policy, or a policy that allows all traffic).
    struct Reach: Sendable {
        var reach: RouteReach
        var viewers: [UInt64]
    }

    private(set) var steering = ViaSteering.none
    /// The elected router of each group that has an online candidate.
    private var elected: [Group: UInt64] = [:]
    /// For each viewer with views of its own, its view of each peer whose routes differ from the shared entry.
    private(set) var overrides: [UInt64: [UInt64: PeerView]] = [:]
    /// The route checks of the policy in force; nil when every viewer may use every route.
    private var reach: Reach?
    /// The policy in force when its route checks wait for the first router; see
    /// ``installReach(_:)``.
    private(set) var deferredPolicy: CompiledTailnetPolicy?
    /// The viewers that have an override for each peer.
    private var viewersByPeer: [UInt64: Set<UInt64>] = [:]
    /// For each viewer, the peers whose entries it must get again.
    private var pending: [UInt64: Set<UInt64>] = [:]

    /// True when no viewer has a view of its own and nothing is waiting to be sent.
    var isIdle: Bool { steering.isEmpty && overrides.isEmpty && pending.isEmpty }

    /// Returns the routes `viewer` sees on `peer`, or nil when it sees the shared entry.
    func view(of peer: UInt64, for viewer: UInt64) -> PeerView? {
        overrides[viewer]?[peer]
    }

    /// True when some viewer sees `peer` with routes of its own.
    func isOverridden(_ peer: UInt64) -> Bool {
        viewersByPeer[peer] != nil
    }

    /// Replaces the steering and the route checks, as after a policy change, and computes the
    /// overrides again.
    /// `deferred` is the policy whose checks the caller builds only once a router exists.
    mutating func setPolicy(steering: ViaSteering, reach: Reach?, deferred: CompiledTailnetPolicy?, routes: Routes) {
        let unchanged = steering == self.steering && steering.isEmpty && reach == nil && self.reach == nil
        self.steering = steering
        self.reach = reach
        deferredPolicy = deferred
        guard !unchanged else { return }
        refresh(routes)
    }

    /// Installs the route checks of ``deferredPolicy`` before the next ``refresh(_:)``.
    mutating func installReach(_ reach: Reach) {
        self.reach = reach
        deferredPolicy = nil
    }

    /// Elects the routers again and computes the overrides from `routes`. Records the viewers and
    /// peers whose routes changed for ``takePending()``.
    mutating func refresh(_ routes: Routes) {
        guard !steering.isEmpty || !overrides.isEmpty || (reach != nil && !routes.primaries.isEmpty) else { return }
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
        if var checks = reach {
            reduce(&newOverrides, routes: routes, reach: &checks.reach, viewers: checks.viewers)
            reach = checks
        }
        recordChanges(from: overrides, to: newOverrides)
        elected = newElected
        overrides = newOverrides
        viewersByPeer = [:]
        for (viewer, peers) in newOverrides {
            for peer in peers.keys { viewersByPeer[peer, default: []].insert(viewer) }
        }
    }

    /// Removes from each viewer's view of each router the subnet routes the viewer may not use,
    /// and drops views that end up equal to the shared entry. When every primary route is open to
    /// every address, only the viewers that already have a view (the steered ones) are checked.
    private func reduce(
        _ overrides: inout [UInt64: [UInt64: PeerView]],
        routes: Routes,
        reach: inout RouteReach,
        viewers: [UInt64]
    ) {
        var shared: [UInt64: [String]] = [:]
        var prefixes: [String: IPPrefix] = [:]
        for (route, router) in routes.primaries {
            shared[router, default: []].append(route)
            prefixes[route] = IPPrefix(route)
        }
        for router in shared.keys { shared[router]?.sort() }
        for view in overrides.values.flatMap(\.values) {
            for route in view.primaryRoutes where prefixes[route] == nil { prefixes[route] = IPPrefix(route) }
        }
        func usable(_ list: [String], of peer: UInt64, by viewer: UInt64) -> [String] {
            list.filter { route in prefixes[route].map { reach.isUsable($0, of: peer, by: viewer) } ?? true }
        }
        var restricted: [UInt64: [String]] = [:]
        for (router, list) in shared {
            let closed = list.filter { route in
                prefixes[route].map { !reach.isUsableByEveryone($0, of: router) } ?? false
            }
            if !closed.isEmpty { restricted[router] = closed }
        }
        let checked = restricted.isEmpty ? Array(overrides.keys) : viewers
        for viewer in checked {
            var views = overrides[viewer] ?? [:]
            for (peer, view) in views where peer != viewer {
                views[peer]?.primaryRoutes = usable(view.primaryRoutes, of: peer, by: viewer)
            }
            for (router, closed) in restricted where router != viewer && views[router] == nil {
                let denied = Set(closed).subtracting(usable(closed, of: router, by: viewer))
                guard !denied.isEmpty else { continue }
                views[router] = PeerView(primaryRoutes: (shared[router] ?? []).filter { !denied.contains($0) })
            }
            views = views.filter { peer, view in
                !view.showsExitRoutes || view.primaryRoutes != (shared[peer] ?? [])
            }
            overrides[viewer] = views.isEmpty ? nil : views
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

    /// Forgets the pending entries of `peer`, after the caller sent its entry to every viewer as
    /// that viewer sees it.
    mutating func clearPending(of peer: UInt64) {
        for viewer in Array(pending.keys) {
            pending[viewer]?.remove(peer)
            if pending[viewer]?.isEmpty == true { pending[viewer] = nil }
        }
    }

    /// Returns and clears the viewers and peers whose entries must be sent again.
    mutating func takePending() -> [UInt64: Set<UInt64>] {
        defer { pending = [:] }
        return pending
    }
}
