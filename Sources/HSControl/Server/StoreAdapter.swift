import Foundation
import HSCore
import HSStore

/// Connects the control plane and the admin API to the SQLite ``Store``.
struct StoreAdapter: ControlStorage, AdminStorage {
    let store: Store
    let pool: AddressPool?

    // MARK: ControlStorage

    func loadUsers() throws -> [ControlUser] {
        try store.users().map { user in
            ControlUser(
                id: user.id,
                name: user.name,
                displayName: user.displayName,
                email: user.email,
                profilePicURL: user.profilePictureURL,
                createdAt: user.createdAt ?? Date(timeIntervalSince1970: 0)
            )
        }
    }

    func loadNodes() throws -> [ControlNode] {
        let ephemeralKeys = Set(try store.preAuthKeys(userID: nil).filter(\.ephemeral).map(\.id))
        return try store.nodes().map { node in
            Self.controlNode(node, isEphemeral: node.authKeyID.map(ephemeralKeys.contains) ?? false)
        }
    }

    func consumePreAuthKey(_ secret: String, now: Date) throws -> ConsumedPreAuthKey {
        do {
            let key = try store.usePreAuthKey(secret: secret, now: now)
            return ConsumedPreAuthKey(id: key.id, userID: key.userID, isEphemeral: key.ephemeral, tags: key.tags)
        } catch where [.preAuthKeyInvalid, .preAuthKeyExpired, .preAuthKeyUsed].contains(error.code) {
            throw RegistrationError(message: error.message)
        }
    }

    /// Stores a new node. Registering counts as contact with the client, so a node without a
    /// last-seen time gets the current time, as Headscale records it.
    func insertNode(_ node: ControlNode) throws -> ControlNode {
        var row = Self.storeNode(node)
        row.lastSeen = row.lastSeen ?? Date()
        let stored = try store.createNode(row, allocatingFrom: pool)
        var created = Self.controlNode(stored, isEphemeral: node.isEphemeral)
        created.capabilityVersion = node.capabilityVersion
        return created
    }

    func saveNode(_ node: ControlNode) throws {
        _ = try store.updateNode(Self.storeNode(node))
    }

    func deleteNode(id: UInt64) throws {
        try store.deleteNode(id: id)
    }

    static func controlNode(_ node: Node, isEphemeral: Bool) -> ControlNode {
        ControlNode(
            id: node.id,
            machineKey: node.machineKey,
            nodeKey: node.nodeKey,
            discoKey: node.discoKey,
            endpoints: node.endpoints,
            hostinfo: try? JSONDecoder().decode(JSONValue.self, from: Data(node.hostinfo)),
            ipv4: node.ipv4,
            ipv6: node.ipv6,
            hostname: node.hostname,
            givenName: node.givenName,
            userID: node.userID,
            tags: node.tags,
            expiry: node.expiry,
            lastSeen: node.lastSeen,
            createdAt: node.createdAt ?? Date(timeIntervalSince1970: 0),
            authKeyID: node.authKeyID,
            isEphemeral: isEphemeral,
            approvedRoutes: node.approvedRoutes
        )
    }

    static func storeNode(_ node: ControlNode) -> Node {
        var stored = Node(
            id: node.id,
            machineKey: node.machineKey,
            nodeKey: node.nodeKey,
            discoKey: node.discoKey,
            endpoints: node.endpoints,
            hostinfo: node.hostinfo?.encoded() ?? Array("{}".utf8),
            ipv4: node.ipv4,
            ipv6: node.ipv6,
            hostname: node.hostname,
            givenName: node.givenName,
            userID: node.userID,
            registerMethod: node.authKeyID == nil ? .cli : .authKey,
            tags: node.tags,
            authKeyID: node.authKeyID,
            expiry: node.expiry,
            approvedRoutes: node.approvedRoutes
        )
        stored.lastSeen = node.lastSeen
        stored.createdAt = node.createdAt
        return stored
    }
}
