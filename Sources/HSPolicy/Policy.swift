import HSCore

/// A parsed and validated tailnet policy (Headscale 0.29 "policy v2", Tailscale's ACL language).
///
/// Build one with `Policy.parse(_:)`; the initialiser that takes sections is for callers that
/// assemble a policy in code. A `Policy` is immutable and `Sendable`, so one value can be shared by
/// every connection. Compile it against the nodes with `PolicyCompiler`.
public struct Policy: Sendable {
    /// Groups in source order: `group:name` to member user tokens.
    public var groups: [(name: String, members: [String])]
    /// Host aliases: name to prefix.
    public var hosts: [String: IPPrefix]
    /// Tag owners: `tag:name` to owner aliases (users, groups, tags).
    public var tagOwners: [String: [PolicyAlias]]
    public var acls: [ACLRule]
    public var grants: [GrantRule]
    /// True when the `grants` key was present, even as an empty list (then nothing is allowed).
    public var hasGrantsSection: Bool
    public var nodeAttrs: [NodeAttrRule]
    public var autoApprovers: AutoApprovers
    public var ssh: [SSHRule]
    public var tests: [PolicyTest]
    public var sshTests: [SSHPolicyTest]
    public var randomizeClientPort: Bool

    public init() {
        groups = []
        hosts = [:]
        tagOwners = [:]
        acls = []
        grants = []
        hasGrantsSection = false
        nodeAttrs = []
        autoApprovers = AutoApprovers()
        ssh = []
        tests = []
        sshTests = []
        randomizeClientPort = false
    }

    /// True when the policy lets every node reach every other node: it has no `acls` and no
    /// `grants` section. An explicit empty `grants` list denies everything instead.
    public var allowsAll: Bool { acls.isEmpty && grants.isEmpty && !hasGrantsSection }

    func groupMembers(_ name: String) -> [String]? {
        groups.first { $0.name == name }?.members
    }
}

/// A source, destination or owner reference inside a policy.
public enum PolicyAlias: Hashable, Sendable, CustomStringConvertible {
    /// `*`: every tailnet address (and approved subnet routes when used as a source).
    case wildcard
    /// A user token containing `@`: `alice@example.com` or `alice@`.
    case user(String)
    /// `group:name`.
    case group(String)
    /// `tag:name`.
    case tag(String)
    /// A name defined under `hosts`.
    case host(String)
    /// A literal address or CIDR prefix.
    case prefix(IPPrefix)
    case autogroup(AutoGroup)

    var isAutogroup: Bool {
        if case .autogroup = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .wildcard: "*"
        case .user(let name), .group(let name), .tag(let name), .host(let name): name
        case .prefix(let prefix): prefix.isSingleAddress ? prefix.address.description : prefix.description
        case .autogroup(let group): "autogroup:\(group.rawValue)"
        }
    }
}

/// The `autogroup:` names Headscale 0.29 supports.
public enum AutoGroup: String, Sendable, CaseIterable {
    /// Nodes owned by a user (not tagged).
    case member
    /// Tagged nodes.
    case tagged
    /// In a destination: the nodes of the same user as the source.
    case `self`
    /// Destinations reached through exit nodes.
    case internet
    /// SSH `users` only: any local user except root.
    case nonroot
    /// Every IPv4 and IPv6 address.
    case dangerAll = "danger-all"
}

/// A destination of an `acls` rule: an alias and the ports it opens.
public struct PolicyDestination: Sendable, Hashable {
    public var alias: PolicyAlias
    public var ports: [PortRange]
}

/// An inclusive port range; `0-65535` is "all ports".
public struct PortRange: Sendable, Hashable, Comparable {
    public var first: UInt16
    public var last: UInt16

    public static let all = PortRange(first: 0, last: 65535)

    public init(first: UInt16, last: UInt16) {
        self.first = first
        self.last = last
    }

    public static func < (lhs: PortRange, rhs: PortRange) -> Bool {
        (lhs.first, lhs.last) < (rhs.first, rhs.last)
    }
}

/// One entry of `acls`.
public struct ACLRule: Sendable {
    public var sources: [PolicyAlias]
    public var destinations: [PolicyDestination]
    /// IANA protocol numbers from `proto`; empty means the default set (TCP, UDP, ICMP, ICMPv6).
    public var protocols: [Int]
}

/// One entry of `grants`.
public struct GrantRule: Sendable {
    public var sources: [PolicyAlias]
    public var destinations: [PolicyAlias]
    /// Network-layer permissions from `ip`; each entry is a protocol list (empty means default) and ports.
    public var ip: [(protocols: [Int], ports: [PortRange])]
    /// Application capabilities from `app`: capability name to its values, in source order.
    public var app: [(name: String, values: [JSONValue])]
    /// Tags of the routers the traffic must go through (`via`).
    public var via: [String]
}

/// One entry of `nodeAttrs`.
public struct NodeAttrRule: Sendable {
    public var targets: [PolicyAlias]
    public var attributes: [String]
}

/// The `autoApprovers` section.
public struct AutoApprovers: Sendable {
    /// Route prefix to the aliases allowed to advertise routes inside it, in source order.
    public var routes: [(prefix: IPPrefix, approvers: [PolicyAlias])] = []
    /// Aliases whose exit-node advertisements are approved.
    public var exitNode: [PolicyAlias] = []
}

/// One entry of `ssh`.
public struct SSHRule: Sendable {
    public enum Action: String, Sendable {
        case accept
        case check
    }

    public var action: Action
    public var sources: [PolicyAlias]
    public var destinations: [PolicyAlias]
    /// Local user names as written: literal names, `autogroup:nonroot`, `localpart:*@domain`.
    public var users: [String]
    /// Re-authentication period of a `check` rule, in seconds; nil means the default (12 hours).
    public var checkPeriodSeconds: Int64?
    public var acceptEnv: [String]?
}

/// One entry of `tests`: a source that must reach every `accept` target and none of `deny`.
public struct PolicyTest: Sendable {
    public var source: String
    public var protocols: [Int]
    public var accept: [String]
    public var deny: [String]
}

/// One entry of `sshTests`.
public struct SSHPolicyTest: Sendable {
    public var source: String
    public var destinations: [String]
    public var accept: [String]
    public var deny: [String]
    public var check: [String]
}
