import Foundation
import HSCore
import HSHTTP

extension AdminAPI {
    /// `/api/v1/debug` routes: `POST /debug/node` creates a node for tests.
    func routeDebug(_ request: HTTPRequest, resource: [String]) throws -> [UInt8] {
        guard request.method == "POST", resource == ["debug", "node"] else {
            throw AdminError.notFound("unknown API path \(request.method) \(request.path)")
        }
        let body = try Self.decodeBody(request)
        try Self.checkAuthID(body["key"]?.stringValue ?? "", field: "key")
        let userName = body["user"]?.stringValue ?? ""
        guard let user = try storage.users(id: nil, name: nil, email: nil).first(where: { $0.name == userName }) else {
            throw AdminError.notFound("user \"\(userName.prefix(64))\" not found; list the users to see the names")
        }
        let name = body["name"]?.stringValue ?? ""
        guard !name.isEmpty, name.utf8.count <= 255 else {
            throw AdminError.invalid("invalid node name \"\(name.prefix(64))\": give 1 to 255 characters")
        }
        let routes = try Self.stringList(body["routes"], field: "routes").map(Self.canonicalRoute)
        let node = try plane.createDebugNode(userID: user.id, name: name, routes: routes)
        return try nodeBody(node)
    }
}
