import HSCore
import HSPolicy

/// Subnet routes and exit routes: which node is the primary router for each prefix.
///
/// A node serves a route when it advertises it (`Hostinfo.RoutableIPs`) and the route is approved.
/// Each subnet prefix has one primary among the online nodes serving it: the current primary keeps
/// it while it stays online and keeps serving it, otherwise the serving node with the lowest id
/// (the oldest) takes over. Exit routes (`0.0.0.0/0`, `::/0`) have no primary; every approved exit
/// node carries them.
struct RouteTable: Sendable {
    /// The primary node of each subnet prefix that an online node serves.
    private(set) var primaries: [String: UInt64] = [:]
    /// The online nodes serving each subnet prefix and every node serving exit routes, as of the
    /// last election, for the per-viewer views.
    private(set) var viewInput = RouteViews.Routes()
    /// Per-viewer views of routers' routes (`via` steering and reachability), computed again after
    /// each election.
    private(set) var views = RouteViews()

    static func isExitRoute(_ prefix: String) -> Bool {
        prefix == "0.0.0.0/0" || prefix == "::/0"
    }

    /// Returns the routes `node` advertises and has had approved, in advertised order.
    static func servedRoutes(of node: ControlNode) -> [String] {
        let advertised = node.hostinfo?["RoutableIPs"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let approved = Set(node.approvedRoutes)
        return advertised.filter { approved.contains($0) }
    }

    /// The subnet prefixes `nodeID` is primary for, sorted.
    func primaryRoutes(of nodeID: UInt64) -> [String] {
        primaries.filter { $0.value == nodeID }.map(\.key).sorted()
    }

    /// Elects the primaries again and returns the ids of nodes whose primary routes changed.
    mutating func elect(nodes: some Sequence<ControlNode>) -> Set<UInt64> {
        var candidates: [String: [UInt64]] = [:]
        var exitNodes = Set<UInt64>()
        for node in nodes {
            let served = Self.servedRoutes(of: node)
            if served.contains(where: Self.isExitRoute) { exitNodes.insert(node.id) }
            guard node.isOnline else { continue }
            for route in served where !Self.isExitRoute(route) {
                candidates[route, default: []].append(node.id)
            }
        }
        var elected: [String: UInt64] = [:]
        for (route, ids) in candidates {
            if let current = primaries[route], ids.contains(current) {
                elected[route] = current
            } else if let oldest = ids.min() {
                elected[route] = oldest
            }
        }
        var changed = Set<UInt64>()
        for route in Set(primaries.keys).union(elected.keys) where primaries[route] != elected[route] {
            if let before = primaries[route] { changed.insert(before) }
            if let after = elected[route] { changed.insert(after) }
        }
        primaries = elected
        viewInput = RouteViews.Routes(
            primaries: elected,
            servers: candidates.mapValues(Set.init),
            exitNodes: exitNodes
        )
        views.refresh(viewInput)
        return changed
    }

    /// Replaces the `via` steering and the route checks, as after a policy change, and computes
    /// the views again.
    mutating func setPolicy(steering: ViaSteering, reach: RouteViews.Reach?, deferred: CompiledTailnetPolicy?) {
        views.setPolicy(steering: steering, reach: reach, deferred: deferred, routes: viewInput)
    }

    /// Installs route checks for the deferred policy; see ``RouteViews/installReach(_:)``.
    mutating func installReach(_ reach: RouteViews.Reach) {
        views.installReach(reach)
    }

    /// Records that `nodeID`'s entry changed; see ``RouteViews/notePeerChanged(_:)``.
    mutating func notePeerChanged(_ nodeID: UInt64) {
        views.notePeerChanged(nodeID)
    }

    /// Records some view overrides as changed; see ``RouteViews/noteOverridesChanged(where:)``.
    mutating func noteOverridesChanged(where isStale: (UInt64, UInt64) -> Bool) {
        views.noteOverridesChanged(where: isStale)
    }

    /// Forgets the pending entries of `nodeID`; see ``RouteViews/clearPending(of:)``.
    mutating func clearPending(of nodeID: UInt64) {
        views.clearPending(of: nodeID)
    }

    /// Returns and clears the viewers' own entries to send again; see ``RouteViews/takePending()``.
    mutating func takeViewPending() -> [UInt64: Set<UInt64>] {
        views.takePending()
    }
}
