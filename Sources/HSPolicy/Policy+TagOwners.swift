extension Policy {
    /// True when the policy lets a device of `user` carry every tag in `tags`: each tag must be
    /// defined in `tagOwners` with an owner (user, group, or autogroup) that matches the user.
    public func allowsTags(_ tags: [String], for user: PolicyUser, users: [PolicyUser]) -> Bool {
        let device = PolicyNode(id: 0, hostname: "", ipv4: nil, ipv6: nil, userID: user.id)
        let resolver = AliasResolver(
            policy: self,
            tailnet: PolicyTailnet(users: users, nodes: [device], serverURL: "")
        )
        return tags.allSatisfy { tag in
            guard let owners = tagOwners[tag] else { return false }
            return owners.contains { resolver.matches(device, $0) }
        }
    }
}
