import Foundation
import HSCore
import HSHTTP

extension AdminAPI {
    func routeNodes(_ request: HTTPRequest, resource: [String]) throws -> [UInt8] {
        switch (request.method, resource.count) {
        case ("GET", 1):
            return try listNodes(userFilter: request.queryValue("user"))
        case ("GET", 2):
            let node = try existingNode(resource[1])
            return try AdminJSON.wrap("node") { writer in try writeNode(node, into: &writer) }
        case ("DELETE", 2):
            let node = try existingNode(resource[1])
            try plane.deleteNode(id: node.id)
            return Array("{}".utf8)
        case ("POST", 3) where resource[2] == "expire":
            let node = try existingNode(resource[1])
            let updated = try plane.expireNode(id: node.id, at: Date())
            return try AdminJSON.wrap("node") { writer in try writeNode(updated, into: &writer) }
        case ("POST", 4) where resource[2] == "rename":
            let node = try existingNode(resource[1])
            let updated = try plane.renameNode(id: node.id, to: resource[3])
            return try AdminJSON.wrap("node") { writer in try writeNode(updated, into: &writer) }
        default:
            throw AdminError.notFound("unknown API path \(request.method) \(request.path)")
        }
    }

    private func existingNode(_ idText: String) throws -> ControlNode {
        let id = try Self.parseID(idText, field: "node id")
        guard let node = plane.node(id: id) else { throw AdminError.notFound("node \(id) not found") }
        return node
    }

    private func listNodes(userFilter: String?) throws -> [UInt8] {
        let users = try usersByID()
        var nodes = plane.nodeSnapshots()
        if let userFilter, !userFilter.isEmpty {
            guard let user = users.values.first(where: { $0.name == userFilter || String($0.id) == userFilter }) else {
                throw AdminError.notFound("user \"\(userFilter.prefix(64))\" not found")
            }
            nodes = nodes.filter { $0.userID == user.id }
        }
        let keys = try preAuthKeysByID()
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("nodes")
        writer.beginArray()
        for node in nodes {
            AdminJSON.write(
                node,
                user: node.userID.flatMap { users[$0] },
                preAuthKey: node.authKeyID.flatMap { keys[$0] },
                into: &writer
            )
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    private func writeNode(_ node: ControlNode, into writer: inout JSONWriter) throws {
        let users = try usersByID()
        let keys = try preAuthKeysByID()
        AdminJSON.write(
            node,
            user: node.userID.flatMap { users[$0] },
            preAuthKey: node.authKeyID.flatMap { keys[$0] },
            into: &writer
        )
    }

    private func preAuthKeysByID() throws -> [UInt64: AdminPreAuthKey] {
        Dictionary(uniqueKeysWithValues: try storage.preAuthKeys(userID: nil).map { ($0.id, $0) })
    }
}
