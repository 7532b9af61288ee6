import Foundation
import HSCore

/// Tailnet-wide parts of every map, fixed while the server runs and encoded once at start.
struct MapSettings: Sendable {
    /// The MagicDNS suffix without dots at either end, such as `example.com`.
    var baseDomain: String
    /// Encoded `DERPMap`.
    var derpMap: [UInt8]
    /// Encoded `DNSConfig`, or nil to send none.
    var dnsConfig: [UInt8]?
    /// Whether Taildrop is offered (`file-sharing` capability).
    var fileSharing: Bool
    /// `logtail.enabled`: when false, full maps carry `Debug.DisableLogTail`, which stops clients from
    /// uploading logs to Tailscale's log service.
    var logTailEnabled = false
    /// `auto_update.enabled`: the JSON boolean sent as the `default-auto-update` node attribute.
    var defaultAutoUpdate = false
}

/// The parts of a node's entry that come from the control plane rather than the stored node: the
/// subnet routes it is primary for and its capabilities from the policy.
struct NodeExtras: Sendable, Equatable {
    var primaryRoutes: [String] = []
    var capabilities: [String: [JSONValue]] = [:]
    /// False for a viewer that a `via` grant steers to other exit nodes: the entry then leaves
    /// out the node's exit routes.
    var showsExitRoutes = true
}

/// Encodes `tailcfg` values for map responses.
///
/// Peer entries depend only on the peer, never on the viewer, so one encoding serves every node
/// that sees that peer.
struct MapEncoder: Sendable {
    var settings: MapSettings

    /// Returns the node's MagicDNS name with the trailing dot, such as `laptop.example.com.`.
    func fqdn(_ node: ControlNode) -> String {
        settings.baseDomain.isEmpty ? node.givenName + "." : node.givenName + "." + settings.baseDomain + "."
    }

    /// Encodes `node` as a peer entry.
    func peerJSON(_ node: ControlNode, extras: NodeExtras = NodeExtras(), now: Date) -> [UInt8] {
        var writer = JSONWriter(capacity: 1024)
        writeNode(node, isSelf: false, extras: extras, now: now, into: &writer)
        return writer.bytes
    }

    /// Encodes `node` as the self node of its own map, with its node capabilities.
    func selfJSON(_ node: ControlNode, extras: NodeExtras = NodeExtras(), now: Date) -> [UInt8] {
        var writer = JSONWriter(capacity: 1024)
        writeNode(node, isSelf: true, extras: extras, now: now, into: &writer)
        return writer.bytes
    }

    /// Returns the prefixes routed to `node`: its own addresses, the subnets it is primary for, and
    /// its approved exit routes unless `exitRoutes` is false.
    static func allowedIPs(_ node: ControlNode, primaryRoutes: [String], exitRoutes: Bool = true) -> [String] {
        guard exitRoutes else { return node.addressPrefixes + primaryRoutes }
        let served = RouteTable.servedRoutes(of: node).filter(RouteTable.isExitRoute)
        return node.addressPrefixes + primaryRoutes + served.sorted()
    }

    private func writeNode(
        _ node: ControlNode,
        isSelf: Bool,
        extras: NodeExtras,
        now: Date,
        into writer: inout JSONWriter
    ) {
        let primaryRoutes = extras.primaryRoutes
        let expired = node.isExpired(at: now)
        writer.beginObject()
        writer.key("ID")
        writer.integer(node.id)
        writer.key("StableID")
        writer.string(String(node.id))
        writer.key("Name")
        writer.string(fqdn(node))
        writer.key("User")
        writer.integer(node.tags.isEmpty ? (node.userID ?? taggedDevicesUserID) : taggedDevicesUserID)
        writer.key("Key")
        writer.string(node.nodeKey.text)
        writer.key("KeyExpiry")
        writer.string(node.tags.isEmpty ? WireTime.format(node.expiry) : RFC3339.zero)
        writer.key("Machine")
        writer.string(node.machineKey.text)
        writer.key("DiscoKey")
        writer.string(node.discoKey.text)
        writer.key("Addresses")
        writer.strings(node.addressPrefixes)
        writer.key("AllowedIPs")
        writer.strings(Self.allowedIPs(node, primaryRoutes: primaryRoutes, exitRoutes: extras.showsExitRoutes))
        if !primaryRoutes.isEmpty {
            writer.key("PrimaryRoutes")
            writer.strings(primaryRoutes)
        }
        if !node.endpoints.isEmpty {
            writer.key("Endpoints")
            writer.strings(node.endpoints)
        }
        if node.homeDERP > 0 {
            writer.key("HomeDERP")
            writer.integer(node.homeDERP)
        }
        writer.key("Hostinfo")
        writer.value(node.hostinfo ?? .object([]))
        writer.key("Created")
        writer.string(RFC3339.format(node.createdAt))
        if node.capabilityVersion > 0 {
            writer.key("Cap")
            writer.integer(node.capabilityVersion)
        }
        if !node.tags.isEmpty {
            writer.key("Tags")
            writer.strings(node.tags)
        }
        writer.key("Online")
        writer.bool(node.isOnline)
        if !node.isOnline, let lastSeen = node.lastSeen {
            writer.key("LastSeen")
            writer.string(RFC3339.format(lastSeen))
        }
        writer.key("MachineAuthorized")
        writer.bool(!expired)
        if expired {
            writer.key("Expired")
            writer.bool(true)
        }
        writer.key("CapMap")
        writeCapabilities(isSelf: isSelf, policy: extras.capabilities, into: &writer)
        writer.endObject()
    }

    private func writeCapabilities(
        isSelf: Bool,
        policy: [String: [JSONValue]],
        into writer: inout JSONWriter
    ) {
        writer.beginObject()
        for (name, values) in policy.sorted(by: { $0.key < $1.key }) {
            writer.key(name)
            // A capability without values is null on the wire, as Tailscale's control plane and
            // Headscale send it.
            writer.value(values.isEmpty ? .null : .array(values))
        }
        if isSelf, policy["disable-captive-portal-detection"] == nil {
            // Without this, a client that cannot reach DERP starts captive-portal probes of
            // public hosts.
            writer.key("disable-captive-portal-detection")
            writer.null()
        }
        if settings.fileSharing, policy["https://tailscale.com/cap/file-sharing"] == nil {
            writer.key("https://tailscale.com/cap/file-sharing")
            writer.null()
        }
        if policy["https://tailscale.com/cap/ssh"] == nil {
            writer.key("https://tailscale.com/cap/ssh")
            writer.null()
        }
        if policy["default-auto-update"] == nil {
            // Clients (capability version 131 and later) follow this when their own auto-update
            // preference is unset.
            writer.key("default-auto-update")
            writer.value(.array([.bool(settings.defaultAutoUpdate)]))
        }
        writer.endObject()
    }

    /// Encodes the user profiles of `users`, sorted by id.
    func userProfilesJSON(_ users: [ControlUser], includeTagged: Bool) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginArray()
        for user in users.sorted(by: { $0.id < $1.id }) {
            writer.beginObject()
            writer.key("ID")
            writer.integer(user.id)
            writer.key("LoginName")
            writer.string(user.loginName)
            writer.key("DisplayName")
            writer.string(user.displayName.isEmpty ? user.name : user.displayName)
            if !user.profilePicURL.isEmpty {
                writer.key("ProfilePicURL")
                writer.string(user.profilePicURL)
            }
            writer.endObject()
        }
        if includeTagged {
            writer.beginObject()
            writer.key("ID")
            writer.integer(taggedDevicesUserID)
            writer.key("LoginName")
            writer.string("tagged-devices")
            writer.key("DisplayName")
            writer.string("Tagged Devices")
            writer.endObject()
        }
        writer.endArray()
        return writer.bytes
    }
}
