import Foundation
import HSCore

/// The `RegisterResponse` bodies this server sends, as JSON.
enum RegisterResponses {
    /// Encodes the success shape: the node's user (or the tagged-devices identity) and whether its
    /// key has expired. `MachineAuthorized` is always true.
    static func success(node: ControlNode, user: ControlUser?, now: Date) -> [UInt8] {
        let isTagged = !node.tags.isEmpty
        let userID = isTagged ? taggedDevicesUserID : (node.userID ?? taggedDevicesUserID)
        let loginName = isTagged ? "tagged-devices" : (user?.loginName ?? "")
        let displayName =
            isTagged ? "Tagged Devices" : (user.map { $0.displayName.isEmpty ? $0.name : $0.displayName } ?? "")
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("User")
        writer.beginObject()
        writer.key("ID")
        writer.integer(userID)
        writer.key("LoginName")
        writer.string(loginName)
        writer.key("DisplayName")
        writer.string(displayName)
        writer.key("Created")
        writer.string(RFC3339.format(user?.createdAt ?? node.createdAt))
        writer.endObject()
        writer.key("Login")
        writer.beginObject()
        writer.key("ID")
        writer.integer(userID)
        writer.key("LoginName")
        writer.string(loginName)
        writer.key("DisplayName")
        writer.string(displayName)
        writer.endObject()
        writer.key("NodeKeyExpired")
        writer.bool(node.isExpired(at: now))
        // There is no device approval, so every registered node counts as authorized, as in Headscale.
        writer.key("MachineAuthorized")
        writer.bool(true)
        writer.endObject()
        return writer.bytes
    }

    /// Tells the client to have its user open `url`; the client then follows up with that URL.
    static func authURL(_ url: String) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("NodeKeyExpired")
        writer.bool(false)
        writer.key("MachineAuthorized")
        writer.bool(false)
        writer.key("AuthURL")
        writer.string(url)
        writer.endObject()
        return writer.bytes
    }

    /// Encodes the response to a logout whose node is gone (deleted, or never known).
    static func loggedOut() -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("NodeKeyExpired")
        writer.bool(true)
        writer.key("MachineAuthorized")
        writer.bool(false)
        writer.endObject()
        return writer.bytes
    }

    /// Encodes a rejection that the client shows its user.
    static func error(_ message: String) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("Error")
        writer.string(message)
        writer.endObject()
        return writer.bytes
    }
}
