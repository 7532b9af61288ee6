import Foundation
import HSCore
import HSHTTP

extension AdminAPI {
    /// `/api/v1/auth` routes: `POST register {user, authId}`, `POST approve {authId}` and
    /// `POST reject {authId}`, deciding interactive logins that wait for an administrator.
    ///
    /// A malformed auth id is 400; an id with no waiting login, or an unknown user, is 404.
    func routeAuth(_ request: HTTPRequest, resource: [String]) throws -> [UInt8] {
        guard request.method == "POST", resource.count == 2 else {
            throw AdminError.notFound("unknown API path \(request.method) \(request.path)")
        }
        let body = try Self.decodeBody(request)
        switch resource[1] {
        case "register":
            let id = try Self.authID(body["authId"])
            return try registerLogin(id, userName: body["user"]?.stringValue ?? "")
        case "approve":
            let id = try Self.authID(body["authId"])
            guard plane.pendingLogin(id) != nil else { throw Self.noPendingLogin(id) }
            throw AdminError(
                kind: .failedPrecondition,
                message: "auth id \(id) belongs to a node registration; "
                    + "use headscale auth register --auth-id \(id) --user <USER>"
            )
        case "reject":
            let id = try Self.authID(body["authId"])
            do {
                try plane.rejectInteractiveLogin(id)
            } catch InteractiveLoginError.noPendingLogin {
                throw Self.noPendingLogin(id)
            }
            return Array("{}".utf8)
        default:
            throw AdminError.notFound("unknown API path \(request.method) \(request.path)")
        }
    }

    /// `POST /api/v1/node/register?user=NAME&key=AUTH_ID`, the deprecated form of `auth register`
    /// that `headscale nodes register` still sends. Same statuses as `POST /api/v1/auth/register`.
    func registerNodeByQuery(_ request: HTTPRequest) throws -> [UInt8] {
        let id = try Self.authID(request.queryValue("key").map(JSONValue.string))
        return try registerLogin(id, userName: request.queryValue("user") ?? "")
    }

    private func registerLogin(_ id: AuthRequestID, userName: String) throws -> [UInt8] {
        guard plane.pendingLogin(id) != nil else { throw Self.noPendingLogin(id) }
        guard !userName.isEmpty else {
            throw AdminError.invalid("missing user: send the name of the user that will own the node")
        }
        guard let user = try storage.users(id: nil, name: userName, email: nil).first else {
            throw AdminError.notFound(
                "user \"\(userName.prefix(64))\" not found; create it with headscale users create"
            )
        }
        let node: ControlNode
        do {
            node = try plane.completeInteractiveLogin(id, userID: user.id)
        } catch InteractiveLoginError.noPendingLogin {
            throw Self.noPendingLogin(id)
        }
        return AdminJSON.wrap("node") { writer in
            AdminJSON.write(node, user: user, preAuthKey: nil, into: &writer)
        }
    }

    private static func authID(_ value: JSONValue?) throws -> AuthRequestID {
        let text = value?.stringValue ?? ""
        guard let id = AuthRequestID(parsing: text) else {
            throw AdminError.invalid(
                "invalid auth id \"\(text.prefix(64))\": expected \(AuthRequestID.prefix) followed by "
                    + "\(AuthRequestID.randomLength) characters, as printed in the client's login URL"
            )
        }
        return id
    }

    private static func noPendingLogin(_ id: AuthRequestID) -> AdminError {
        AdminError.notFound("no pending registration has auth id \(id); it may have expired: run tailscale up again")
    }
}
