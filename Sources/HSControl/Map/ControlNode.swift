import Foundation
import HSCore

/// A registered node as the control plane keeps it in memory: the stored row plus what only lives
/// while the server runs (online state, the client's capability version).
struct ControlNode: Sendable {
    var id: UInt64
    var machineKey: MachinePublicKey
    var nodeKey: NodePublicKey
    var discoKey: DiscoPublicKey
    var endpoints: [String]
    var hostinfo: JSONValue?
    var ipv4: String?
    var ipv6: String?
    var hostname: String
    var givenName: String
    var userID: UInt64?
    var tags: [String]
    var expiry: Date?
    var lastSeen: Date?
    var createdAt: Date
    var authKeyID: UInt64?
    var isEphemeral: Bool
    var capabilityVersion: Int = 0
    var isOnline: Bool = false
    /// Subnet and exit routes (CIDR text) the administrator approved.
    var approvedRoutes: [String] = []

    /// The node's Tailscale addresses as single-host prefixes, IPv4 first.
    var addressPrefixes: [String] {
        var prefixes: [String] = []
        if let ipv4 { prefixes.append(ipv4 + "/32") }
        if let ipv6 { prefixes.append(ipv6 + "/128") }
        return prefixes
    }

    /// The home DERP region the client reported in `Hostinfo.NetInfo.PreferredDERP`, or 0.
    var homeDERP: Int {
        guard let preferred = hostinfo?["NetInfo"]?["PreferredDERP"]?.integerValue else { return 0 }
        return Int(clamping: preferred)
    }

    func isExpired(at now: Date) -> Bool {
        guard let expiry else { return false }
        return expiry <= now
    }
}

/// A user as map responses and registration replies describe it.
struct ControlUser: Sendable {
    var id: UInt64
    var name: String
    var displayName: String
    var email: String
    var profilePicURL: String
    var createdAt: Date

    /// The login name clients show: the e-mail when set, else the user name.
    var loginName: String { email.isEmpty ? name : email }
}

/// The user id Tailscale clients expect on tagged nodes, which belong to no user.
let taggedDevicesUserID: UInt64 = 2_147_455_555
