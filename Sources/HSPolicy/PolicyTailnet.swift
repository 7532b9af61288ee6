/// A user, with the fields that policy aliases match.
public struct PolicyUser: Sendable, Hashable {
    public var id: UInt64
    /// Login name; `alice@` in a policy matches the user named `alice`.
    public var name: String
    /// Email address; `alice@example.com` in a policy matches it.
    public var email: String

    public init(id: UInt64, name: String, email: String) {
        self.id = id
        self.name = name
        self.email = email
    }
}

/// A node, with the fields that policy compilation reads.
public struct PolicyNode: Sendable, Hashable {
    public var id: UInt64
    public var hostname: String
    public var ipv4: IPAddress?
    public var ipv6: IPAddress?
    /// Owner; ignored for membership when the node has tags, because a tagged node belongs to its tags.
    public var userID: UInt64?
    /// `tag:name` strings.
    public var tags: [String]
    /// Prefixes the node advertises (Hostinfo.RoutableIPs).
    public var advertisedRoutes: [IPPrefix]
    /// The subset of `advertisedRoutes` an admin or `autoApprovers` approved.
    public var approvedRoutes: [IPPrefix]

    public init(
        id: UInt64,
        hostname: String,
        ipv4: IPAddress?,
        ipv6: IPAddress?,
        userID: UInt64?,
        tags: [String] = [],
        advertisedRoutes: [IPPrefix] = [],
        approvedRoutes: [IPPrefix] = []
    ) {
        self.id = id
        self.hostname = hostname
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.userID = userID
        self.tags = tags
        self.advertisedRoutes = advertisedRoutes
        self.approvedRoutes = approvedRoutes
    }

    public var isTagged: Bool { !tags.isEmpty }

    /// The node's own addresses, IPv4 first.
    public var addresses: [IPAddress] { [ipv4, ipv6].compactMap { $0 } }

    /// Approved routes that are not exit routes.
    public var approvedSubnetRoutes: [IPPrefix] { approvedRoutes.filter { !$0.isDefaultRoute } }

    /// True when both `0.0.0.0/0` and `::/0` or either of them is approved.
    public var isApprovedExitNode: Bool { approvedRoutes.contains { $0.isDefaultRoute } }
}

/// The tailnet a policy is compiled against.
///
/// `nodes` must be in registration order (oldest first): when several routers serve the same
/// prefix, the oldest one is the primary.
public struct PolicyTailnet: Sendable {
    public var users: [PolicyUser]
    public var nodes: [PolicyNode]
    /// Base URL of this server, used in SSH `check` actions (`<url>/machine/ssh/action/...`).
    public var serverURL: String

    public init(users: [PolicyUser], nodes: [PolicyNode], serverURL: String) {
        self.users = users
        self.nodes = nodes
        self.serverURL = serverURL
    }
}
