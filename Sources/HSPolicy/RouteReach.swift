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
/// responses of the policy compatibility vectors, subnet-to-subnet cases included.
struct RouteReach {
    /// An inclusive address range of one family.
    struct Span {
        let first: IPAddress
        let last: IPAddress

        func overlaps(_ other: Span) -> Bool {
            first.isIPv6 == other.first.isIPv6 && first <= other.last && other.first <= last
        }
    }

    /// The sources and destinations of one filter rule.
    struct RuleSpans {
        let sources: [Span]
        let destinations: [Span]
    }

    private let rules: [UInt64: [RuleSpans]]
    private let endpoints: [UInt64: [Span]]

    init(nodes: [PolicyNode], compiled: CompiledTailnetPolicy) {
        var rules: [UInt64: [RuleSpans]] = [:]
        var endpoints: [UInt64: [Span]] = [:]
        for node in nodes {
            rules[node.id] = (compiled.node(node.id)?.filterRules ?? []).map { rule in
                RuleSpans(
                    sources: rule.srcIPs.flatMap(Self.spans),
                    destinations: rule.dstPorts.flatMap { Self.spans($0.ip) }
                )
            }
            let own = node.addresses.map { Span(first: $0, last: $0) }
            endpoints[node.id] = own + node.approvedSubnetRoutes.map(Self.span)
        }
        self.rules = rules
        self.endpoints = endpoints
    }

    /// Returns the routes of `routes` (served by `peer`) that `viewer` may use, in their order.
    func usableRoutes(_ routes: [IPPrefix], of peer: PolicyNode, by viewer: PolicyNode) -> [IPPrefix] {
        guard !routes.isEmpty else { return [] }
        let reachable = endpoints[viewer.id] ?? []
        let peerRules = rules[peer.id] ?? []
        let viewerRules = rules[viewer.id] ?? []
        return routes.filter { route in
            let target = [Self.span(route)]
            let sendsInto = peerRules.contains {
                Self.overlap($0.sources, reachable) && Self.overlap($0.destinations, target)
            }
            let receivesFrom = viewerRules.contains {
                Self.overlap($0.sources, target) && Self.overlap($0.destinations, reachable)
            }
            return sendsInto || receivesFrom
        }
    }

    private static func overlap(_ lhs: [Span], _ rhs: [Span]) -> Bool {
        lhs.contains { left in rhs.contains { left.overlaps($0) } }
    }

    private static func span(_ prefix: IPPrefix) -> Span {
        Span(first: prefix.address, last: prefix.last)
    }

    /// Reads one filter address: `*`, an address, a CIDR prefix or a `first-last` range. Any other
    /// text (the compiler never writes it) matches nothing.
    static func spans(_ text: String) -> [Span] {
        if text == "*" {
            return [
                span(IPPrefix(IPAddress(ipv4: 0), length: 0)),
                span(IPPrefix(IPAddress(ipv6: 0), length: 0)),
            ]
        }
        let bounds = text.split(separator: "-", maxSplits: 1)
        if bounds.count == 2 {
            guard let first = IPAddress(bounds[0]), let last = IPAddress(bounds[1]) else { return [] }
            return [Span(first: first, last: last)]
        }
        return IPPrefix(text).map { [span($0)] } ?? []
    }
}
