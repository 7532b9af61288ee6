/// Decides which of a peer's subnet routes a viewing node may use, from the nodes' compiled filters.
///
/// A viewer's endpoints are its own addresses and its approved subnet routes. The viewer may use
/// route R of peer P when either
/// - a rule in P's filter has a source overlapping the viewer's endpoints and a destination
///   overlapping R (the viewer, or a subnet behind it, may send into R), or
/// - a rule in the viewer's filter has a source overlapping R and a destination overlapping the
///   viewer's endpoints (hosts in R may send to the viewer, which then needs the route to reply).
///
/// This reproduces every peer's `primary_routes` and `allowed_ips` in the recorded control-plane
/// responses of the policy compatibility vectors, subnet-to-subnet cases included. Both
/// `headscale debug policy` and the control plane's maps use it.
///
/// The value reads a router's filter once, when its routes are first checked, and a viewer's own
/// filter only when the router's filter does not already let it use the route, so that checking
/// many viewers against a few routers costs little more than one range lookup per pair. Methods
/// that fill these caches are `mutating`; use one value from one thread.
public struct RouteReach: Sendable {
    private let compiled: CompiledTailnetPolicy
    private let endpoints: [UInt64: [AddressSpan]]
    /// For each router and route, the sources of the router's rules that may send into the route.
    private var sendersByRouter: [UInt64: [IPPrefix: [AddressSpan]]] = [:]
    /// Each router's filter rules, read once for all of its routes.
    private var routerRules: [UInt64: [RuleSpans]] = [:]
    /// Each viewer's filter rules, read only when a sender check failed.
    private var viewerRules: [UInt64: [RuleSpans]] = [:]

    /// Prepares the checks for `nodes`, the possible viewers, with the filters of `compiled`.
    /// Reads only the nodes' addresses and approved routes here; filters are read on demand.
    public init(nodes: some Sequence<PolicyNode>, compiled: CompiledTailnetPolicy) {
        var endpoints: [UInt64: [AddressSpan]] = [:]
        for node in nodes {
            let own = node.addresses.map { AddressSpan(first: $0, last: $0) }
            endpoints[node.id] = own + node.approvedSubnetRoutes.map(AddressSpan.init)
        }
        self.compiled = compiled
        self.endpoints = endpoints
    }

    /// Returns the routes of `routes` (served by `peer`) that `viewer` may use, in their order.
    public mutating func usableRoutes(_ routes: [IPPrefix], of peer: UInt64, by viewer: UInt64) -> [IPPrefix] {
        guard !routes.isEmpty else { return [] }
        return routes.filter { isUsable($0, of: peer, by: viewer) }
    }

    /// True when `viewer` may use `route` through `peer`.
    public mutating func isUsable(_ route: IPPrefix, of peer: UInt64, by viewer: UInt64) -> Bool {
        let reachable = endpoints[viewer] ?? []
        if AddressSpan.overlap(senders(into: route, of: peer), reachable) { return true }
        let target = [AddressSpan(route)]
        return rules(of: viewer, cache: \.viewerRules).contains {
            AddressSpan.overlap($0.sources, target) && AddressSpan.overlap($0.destinations, reachable)
        }
    }

    /// True when `peer`'s filter lets every IPv4 and IPv6 address send into `route`, so that every
    /// viewer with an address may use it.
    public mutating func isUsableByEveryone(_ route: IPPrefix, of peer: UInt64) -> Bool {
        let senders = senders(into: route, of: peer)
        return AddressSpan.everything.allSatisfy { whole in
            senders.contains { $0.contains(whole) }
        }
    }

    private mutating func senders(into route: IPPrefix, of peer: UInt64) -> [AddressSpan] {
        if let known = sendersByRouter[peer]?[route] { return known }
        let target = [AddressSpan(route)]
        let senders = rules(of: peer, cache: \.routerRules)
            .filter { AddressSpan.overlap($0.destinations, target) }
            .flatMap(\.sources)
        sendersByRouter[peer, default: [:]][route] = senders
        return senders
    }

    private mutating func rules(
        of node: UInt64,
        cache: WritableKeyPath<RouteReach, [UInt64: [RuleSpans]]>
    ) -> [RuleSpans] {
        if let known = self[keyPath: cache][node] { return known }
        let rules = (compiled.node(node)?.filterRules ?? []).map { rule in
            RuleSpans(
                sources: rule.srcIPs.flatMap(AddressSpan.parse),
                destinations: rule.dstPorts.flatMap { AddressSpan.parse($0.ip) }
            )
        }
        self[keyPath: cache][node] = rules
        return rules
    }
}

/// The sources and destinations of one filter rule.
struct RuleSpans: Sendable {
    let sources: [AddressSpan]
    let destinations: [AddressSpan]
}

/// An inclusive address range of one family.
struct AddressSpan: Sendable {
    let first: IPAddress
    let last: IPAddress

    /// The whole IPv4 and the whole IPv6 address space.
    static let everything = [
        AddressSpan(IPPrefix(IPAddress(ipv4: 0), length: 0)),
        AddressSpan(IPPrefix(IPAddress(ipv6: 0), length: 0)),
    ]

    init(first: IPAddress, last: IPAddress) {
        self.first = first
        self.last = last
    }

    init(_ prefix: IPPrefix) {
        self.init(first: prefix.address, last: prefix.last)
    }

    func contains(_ other: AddressSpan) -> Bool {
        first.isIPv6 == other.first.isIPv6 && first <= other.first && other.last <= last
    }

    func overlaps(_ other: AddressSpan) -> Bool {
        first.isIPv6 == other.first.isIPv6 && first <= other.last && other.first <= last
    }

    static func overlap(_ lhs: [AddressSpan], _ rhs: [AddressSpan]) -> Bool {
        lhs.contains { left in rhs.contains { left.overlaps($0) } }
    }

    /// Reads one filter address: `*`, an address, a CIDR prefix or a `first-last` range. Any other
    /// text (the compiler never writes it) matches nothing.
    static func parse(_ text: String) -> [AddressSpan] {
        if text == "*" { return everything }
        let bounds = text.split(separator: "-", maxSplits: 1)
        if bounds.count == 2 {
            guard let first = IPAddress(bounds[0]), let last = IPAddress(bounds[1]) else { return [] }
            return [AddressSpan(first: first, last: last)]
        }
        return IPPrefix(text).map { [AddressSpan($0)] } ?? []
    }
}
