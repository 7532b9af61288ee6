import Foundation
import HSCore

/// How a node was registered, stored as Headscale's `register_method` text.
public enum RegisterMethod: String, Sendable, Equatable {
    case authKey = "authkey"
    case cli = "cli"
    case oidc = "oidc"
}

/// A node (a Tailscale device) row.
///
/// `ipv4`/`ipv6` are address text without a prefix length. `hostinfo` is the raw JSON `Hostinfo` object the
/// client sent. `endpoints`, `tags` and `approvedRoutes` are stored as JSON arrays of strings.
public struct Node: Sendable, Equatable, Identifiable {
    /// Assigned by ``Store/createNode(_:allocatingFrom:now:)``; ignored on insert.
    public var id: UInt64
    public var machineKey: MachinePublicKey
    public var nodeKey: NodePublicKey
    public var discoKey: DiscoPublicKey
    /// The client's UDP endpoints, such as `192.0.2.1:41641`.
    public var endpoints: [String]
    public var hostinfo: [UInt8]
    public var ipv4: String?
    public var ipv6: String?
    /// The hostname the client reported, up to 255 bytes.
    public var hostname: String
    /// The DNS label used in MagicDNS names, unique across nodes, up to 63 bytes.
    public var givenName: String
    /// The owner; nil for a tagged node.
    public var userID: UInt64?
    public var registerMethod: RegisterMethod
    public var tags: [String]
    /// The pre-auth key that registered the node, if any.
    public var authKeyID: UInt64?
    /// When the node key expires; nil means never.
    public var expiry: Date?
    public var lastSeen: Date?
    /// Subnet routes (CIDR text) the administrator approved.
    public var approvedRoutes: [String]
    public var createdAt: Date?
    public var updatedAt: Date?

    /// Creates a node value to pass to ``Store/createNode(_:allocatingFrom:now:)``; the id is assigned on insert.
    public init(
        id: UInt64 = 0,
        machineKey: MachinePublicKey,
        nodeKey: NodePublicKey,
        discoKey: DiscoPublicKey = .zero,
        endpoints: [String] = [],
        hostinfo: [UInt8] = Array("{}".utf8),
        ipv4: String? = nil,
        ipv6: String? = nil,
        hostname: String,
        givenName: String,
        userID: UInt64?,
        registerMethod: RegisterMethod,
        tags: [String] = [],
        authKeyID: UInt64? = nil,
        expiry: Date? = nil,
        lastSeen: Date? = nil,
        approvedRoutes: [String] = [],
        createdAt: Date? = nil,
        updatedAt: Date? = nil
    ) {
        self.id = id
        self.machineKey = machineKey
        self.nodeKey = nodeKey
        self.discoKey = discoKey
        self.endpoints = endpoints
        self.hostinfo = hostinfo
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.hostname = hostname
        self.givenName = givenName
        self.userID = userID
        self.registerMethod = registerMethod
        self.tags = tags
        self.authKeyID = authKeyID
        self.expiry = expiry
        self.lastSeen = lastSeen
        self.approvedRoutes = approvedRoutes
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Whether the node is owned by tags rather than a user.
    public var isTagged: Bool { userID == nil && !tags.isEmpty }
}
