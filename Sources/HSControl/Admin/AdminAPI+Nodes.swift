import Foundation
import HSCore
import HSHTTP

extension AdminAPI {
    /// `/api/v1/node` routes.
    func routeNodes(_ request: HTTPRequest, resource: [String]) throws -> [UInt8] {
        switch (request.method, resource.count) {
        case ("GET", 1):
            return try listNodes(userFilter: request.queryValue("user"))
        case ("POST", 2) where resource[1] == "register":
            return try registerPendingNode(request)
        case ("POST", 2) where resource[1] == "backfillips":
            return try backfillAddresses(request)
        case ("GET", 2):
            return try nodeBody(existingNode(resource[1]))
        case ("DELETE", 2):
            let node = try existingNode(resource[1])
            try plane.deleteNode(id: node.id)
            return Array("{}".utf8)
        case ("POST", 3) where resource[2] == "expire":
            let node = try existingNode(resource[1])
            return try nodeBody(plane.setExpiry(id: node.id, to: Self.requestedExpiry(request)))
        case ("POST", 4) where resource[2] == "rename":
            let node = try existingNode(resource[1])
            return try nodeBody(plane.renameNode(id: node.id, to: resource[3]))
        case ("POST", 3) where resource[2] == "tags":
            return try setTags(request, node: existingNode(resource[1]))
        case ("POST", 3) where resource[2] == "approve_routes":
            return try approveRoutes(request, node: existingNode(resource[1]))
        default:
            throw AdminError.notFound("unknown API path \(request.method) \(request.path)")
        }
    }

    func existingNode(_ idText: String) throws -> ControlNode {
        let id = try Self.parseID(idText, field: "node id")
        guard let node = plane.node(id: id) else {
            throw AdminError.notFound("node \(id) not found; list the nodes to see the valid ids")
        }
        return node
    }

    /// `{"node": …}` for one node; a tagged node shows `"user": null`.
    func nodeBody(_ node: ControlNode) throws -> [UInt8] {
        let users = try usersByID()
        let keys = try preAuthKeysByID()
        return AdminJSON.wrap("node") { writer in
            AdminJSON.write(
                node,
                user: node.tags.isEmpty ? node.userID.flatMap { users[$0] } : nil,
                preAuthKey: Self.keyWithOwner(node, keys: keys, users: users),
                into: &writer
            )
        }
    }

    /// Lists nodes sorted by id, optionally those of one user (by name). Tagged nodes show the
    /// `tagged-devices` stand-in user.
    private func listNodes(userFilter: String?) throws -> [UInt8] {
        let users = try usersByID()
        var nodes = plane.nodeSnapshots()
        if let userFilter, !userFilter.isEmpty {
            guard let user = users.values.first(where: { $0.name == userFilter }) else {
                throw AdminError.notFound(
                    "user \"\(userFilter.prefix(64))\" not found; list the users to see the names"
                )
            }
            nodes = nodes.filter { $0.userID == user.id && $0.tags.isEmpty }
        }
        let keys = try preAuthKeysByID()
        return AdminJSON.wrap("nodes") { writer in
            writer.beginArray()
            for node in nodes {
                let owner = node.tags.isEmpty ? node.userID.flatMap { users[$0] } : AdminJSON.taggedDevicesUser
                AdminJSON.write(
                    node,
                    user: owner,
                    preAuthKey: Self.keyWithOwner(node, keys: keys, users: users),
                    into: &writer
                )
            }
            writer.endArray()
        }
    }

    private static func keyWithOwner(
        _ node: ControlNode,
        keys: [UInt64: AdminPreAuthKey],
        users: [UInt64: AdminUser]
    ) -> (key: AdminPreAuthKey, user: AdminUser?)? {
        guard let key = node.authKeyID.flatMap({ keys[$0] }) else { return nil }
        return (key, key.userID.flatMap { users[$0] })
    }

    private func preAuthKeysByID() throws -> [UInt64: AdminPreAuthKey] {
        Dictionary(uniqueKeysWithValues: try storage.preAuthKeys(userID: nil).map { ($0.id, $0) })
    }

    /// Reads the new expiry from the `expiry` and `disableExpiry` query parameters. Neither means now,
    /// and `disableExpiry=true` means nil (never).
    static func requestedExpiry(_ request: HTTPRequest) throws -> Date? {
        let disable = request.queryValue("disableExpiry").map { $0 == "true" || $0 == "1" } ?? false
        let text = request.queryValue("expiry").flatMap { $0.isEmpty ? nil : $0 }
        switch (text, disable) {
        case (.some, true):
            throw AdminError.invalid("give either expiry or disableExpiry, not both")
        case (nil, true):
            return nil
        case (nil, false):
            return Date()
        case (let text?, false):
            guard let date = RFC3339.parse(text) else {
                throw AdminError.invalid(
                    "invalid expiry \"\(text.prefix(40))\": expected an RFC 3339 time such as 2026-01-02T15:04:05Z"
                )
            }
            return date
        }
    }
}
