import Foundation
import HSCore

extension AdminJSON {
    /// The stand-in owner that node lists show for tagged nodes, which belong to no user.
    static let taggedDevicesUser = AdminUser(
        id: taggedDevicesUserID,
        name: "tagged-devices",
        displayName: "Tagged Devices",
        email: "",
        profilePicURL: "",
        provider: "",
        providerID: "",
        createdAt: Date(timeIntervalSince1970: 0)
    )

    /// Writes a node as the `Node` message.
    ///
    /// - Parameters:
    ///   - user: the owner, or nil for a tagged node (`"user": null`).
    ///   - preAuthKey: the key that registered the node with the key's own owner, which a tagged node
    ///     keeps naming.
    static func write(
        _ node: ControlNode,
        user: AdminUser?,
        preAuthKey: (key: AdminPreAuthKey, user: AdminUser?)?,
        into writer: inout JSONWriter
    ) {
        writer.beginObject()
        writer.key("id")
        writer.string(String(node.id))
        writer.key("machineKey")
        writer.string(node.machineKey.text)
        writer.key("nodeKey")
        writer.string(node.nodeKey.text)
        writer.key("discoKey")
        writer.string(node.discoKey.text)
        writer.key("ipAddresses")
        writer.strings([node.ipv4, node.ipv6].compactMap { $0 })
        writer.key("name")
        writer.string(node.hostname)
        writer.key("user")
        if let user { write(user, into: &writer) } else { writer.null() }
        writer.key("lastSeen")
        writeTime(node.isOnline ? Date() : node.lastSeen, into: &writer)
        writer.key("expiry")
        writeTime(node.expiry, into: &writer)
        writer.key("preAuthKey")
        if let preAuthKey { write(preAuthKey.key, user: preAuthKey.user, into: &writer) } else { writer.null() }
        writer.key("createdAt")
        writer.string(RFC3339.format(node.createdAt))
        writeRoutesAndState(node, into: &writer)
        writer.endObject()
    }

    private static func writeRoutesAndState(_ node: ControlNode, into writer: inout JSONWriter) {
        let available = announcedRoutes(node)
        writer.key("registerMethod")
        writer.string(node.authKeyID == nil ? "REGISTER_METHOD_CLI" : "REGISTER_METHOD_AUTH_KEY")
        writer.key("givenName")
        writer.string(node.givenName)
        writer.key("online")
        writer.bool(node.isOnline)
        writer.key("approvedRoutes")
        writer.strings(node.approvedRoutes)
        writer.key("availableRoutes")
        writer.strings(available)
        writer.key("subnetRoutes")
        writer.strings(node.approvedRoutes.filter(available.contains))
        writer.key("tags")
        writer.strings(node.tags)
    }

    /// Returns the routes the client announces in `Hostinfo.RoutableIPs`.
    static func announcedRoutes(_ node: ControlNode) -> [String] {
        node.hostinfo?["RoutableIPs"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}
