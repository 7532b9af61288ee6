extension Policy {
    /// True when `autoApprovers` approves `route` advertised by `node`.
    ///
    /// An exit route (`0.0.0.0/0` or `::/0`) is approved when the node matches an `exitNode`
    /// approver; any other route when a `routes` entry whose prefix contains it lists a matching
    /// approver. `users` resolves user and group approvers.
    public func autoApproves(_ route: IPPrefix, for node: PolicyNode, users: [PolicyUser]) -> Bool {
        let resolver = AliasResolver(policy: self, tailnet: PolicyTailnet(users: users, nodes: [node], serverURL: ""))
        if route.isDefaultRoute {
            return autoApprovers.exitNode.contains { resolver.matches(node, $0) }
        }
        for (prefix, approvers) in autoApprovers.routes
        where prefix.address.isIPv6 == route.address.isIPv6 && prefix.length <= route.length
            && prefix.contains(route.address)
        {
            if approvers.contains(where: { resolver.matches(node, $0) }) { return true }
        }
        return false
    }

    /// The routes of `node.advertisedRoutes` that `autoApprovers` approves, in advertised order.
    public func autoApprovedRoutes(for node: PolicyNode, users: [PolicyUser]) -> [IPPrefix] {
        node.advertisedRoutes.filter { autoApproves($0, for: node, users: users) }
    }
}
