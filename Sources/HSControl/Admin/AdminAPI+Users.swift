import Foundation
import HSCore
import HSHTTP

extension AdminAPI {
    func routeUsers(_ request: HTTPRequest, resource: [String]) throws -> [UInt8] {
        switch (request.method, resource.count) {
        case ("GET", 1):
            // Headscale reads the id as a uint64 whose zero means "no filter", so ?id=0 lists every user.
            let id = try request.queryValue("id").flatMap { $0 == "0" ? nil : $0 }.map {
                try Self.parseID($0, field: "id")
            }
            let users = try storage.users(id: id, name: request.queryValue("name"), email: request.queryValue("email"))
            return AdminJSON.wrap("users") { writer in
                writer.beginArray()
                for user in users { AdminJSON.write(user, into: &writer) }
                writer.endArray()
            }
        case ("POST", 1):
            let body = try Self.decodeBody(request)
            guard let name = body["name"]?.stringValue, !name.isEmpty else {
                throw AdminError.invalid("missing user name: send {\"name\": \"...\"}")
            }
            let user = try storage.createUser(
                name: name,
                displayName: body["displayName"]?.stringValue ?? "",
                email: body["email"]?.stringValue ?? "",
                pictureURL: body["pictureUrl"]?.stringValue ?? ""
            )
            try plane.reloadUsers()
            logger.info("user created", [("user.id", String(user.id)), ("user.name", user.name)])
            return AdminJSON.wrap("user") { AdminJSON.write(user, into: &$0) }
        case ("DELETE", 2):
            let id = try Self.parseID(resource[1], field: "user id")
            if plane.nodeSnapshots().contains(where: { $0.userID == id }) {
                throw AdminError(kind: .failedPrecondition, message: "user \(id) still owns nodes; delete them first")
            }
            try storage.deleteUser(id: id)
            try plane.reloadUsers()
            return Array("{}".utf8)
        case ("POST", 4) where resource[2] == "rename":
            let id = try Self.parseID(resource[1], field: "user id")
            let user = try storage.renameUser(id: id, to: resource[3])
            try plane.reloadUsers()
            return AdminJSON.wrap("user") { AdminJSON.write(user, into: &$0) }
        default:
            throw AdminError.notFound("unknown API path \(request.method) \(request.path)")
        }
    }

    func routePreAuthKeys(_ request: HTTPRequest, resource: [String]) throws -> [UInt8] {
        switch (request.method, resource.count) {
        case ("GET", 1):
            let userID = try request.queryValue("user").map { try Self.parseID($0, field: "user") }
            let keys = try storage.preAuthKeys(userID: userID)
            let users = try usersByID()
            return AdminJSON.wrap("preAuthKeys") { writer in
                writer.beginArray()
                for key in keys {
                    AdminJSON.write(key, user: key.userID.flatMap { users[$0] }, into: &writer)
                }
                writer.endArray()
            }
        case ("POST", 1):
            return try createPreAuthKey(request)
        case ("POST", 2) where resource[1] == "expire":
            let body = try Self.decodeBody(request)
            try storage.expirePreAuthKey(id: try Self.parseID(Self.idText(body["id"]), field: "id"))
            return Array("{}".utf8)
        case ("DELETE", 1):
            try storage.deletePreAuthKey(id: try Self.parseID(request.queryValue("id"), field: "id"))
            return Array("{}".utf8)
        default:
            throw AdminError.notFound("unknown API path \(request.method) \(request.path)")
        }
    }

    private func createPreAuthKey(_ request: HTTPRequest) throws -> [UInt8] {
        let body = try Self.decodeBody(request)
        let tags = body["aclTags"]?.arrayValue?.compactMap(\.stringValue) ?? []
        for tag in tags where !tag.hasPrefix("tag:") || tag.count < 5 {
            throw AdminError.invalid("invalid tag \"\(tag.prefix(64))\": tags start with \"tag:\"")
        }
        let userText = Self.idText(body["user"]).flatMap { $0.isEmpty ? nil : $0 }
        guard userText != nil || !tags.isEmpty else {
            throw AdminError.invalid("a pre-auth key needs a user or at least one tag")
        }
        let userID = try userText.map { try Self.parseID($0, field: "user") }
        let users = try usersByID()
        if let userID, users[userID] == nil {
            throw AdminError.notFound("user \(userID) not found")
        }
        var expiration: Date? = nil
        if let text = body["expiration"]?.stringValue, !text.isEmpty {
            guard let date = RFC3339.parse(text) else {
                throw AdminError.invalid("invalid expiration \"\(text.prefix(40))\": expected an RFC 3339 time")
            }
            expiration = date.timeIntervalSince1970 < -62_000_000_000 ? nil : date
        }
        let key = try storage.createPreAuthKey(
            userID: userID,
            reusable: Self.bool(body["reusable"]),
            ephemeral: Self.bool(body["ephemeral"]),
            expiration: expiration,
            tags: tags
        )
        logger.info("pre-auth key created", [("key.id", String(key.id)), ("user.id", userID.map(String.init) ?? "-")])
        return AdminJSON.wrap("preAuthKey") { AdminJSON.write(key, user: userID.flatMap { users[$0] }, into: &$0) }
    }

    func usersByID() throws -> [UInt64: AdminUser] {
        Dictionary(uniqueKeysWithValues: try storage.users(id: nil, name: nil, email: nil).map { ($0.id, $0) })
    }
}
