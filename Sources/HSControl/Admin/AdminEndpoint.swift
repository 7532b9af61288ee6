/// One endpoint of the `/api/v1` REST API: an HTTP method and a path template such as
/// `/api/v1/node/{nodeId}/rename/{newName}`, where each `{name}` segment matches any one segment.
struct AdminEndpoint: Sendable, Hashable, CustomStringConvertible {
    let method: String
    let template: String
    /// The gRPC method name Headscale gives this call, used as the OpenAPI `operationId`.
    let operation: String
    let summary: String

    init(_ method: String, _ template: String, _ operation: String, _ summary: String) {
        self.method = method
        self.template = template
        self.operation = operation
        self.summary = summary
    }

    var description: String { "\(method) \(template)" }

    /// The template split at `/`, without empty segments.
    var segments: [Substring] { template.split(separator: "/") }

    /// Returns true when `method` and the path `segments` fit this endpoint.
    func matches(method: String, segments path: [String]) -> Bool {
        let pattern = segments
        guard method == self.method, pattern.count == path.count else { return false }
        return zip(pattern, path).allSatisfy { expected, actual in
            (expected.hasPrefix("{") && expected.hasSuffix("}") && !actual.isEmpty) || expected == actual
        }
    }
}

extension AdminAPI {
    /// Every endpoint the router serves, as in Headscale 0.29 plus `DELETE /api/v1/apikey?id=`.
    ///
    /// `handle` responds 404 to any request that fits none of them before it routes, so an endpoint
    /// works only once it is listed here, and tests that walk this list (the 401 table) cover it.
    static let endpoints: [AdminEndpoint] = [
        AdminEndpoint("GET", "/api/v1/health", "Health", "Reports whether the server and its database work"),
        AdminEndpoint("GET", "/api/v1/user", "ListUsers", "Lists users, optionally filtered by id, name or email"),
        AdminEndpoint("POST", "/api/v1/user", "CreateUser", "Creates a user"),
        AdminEndpoint("DELETE", "/api/v1/user/{id}", "DeleteUser", "Deletes a user that owns no nodes"),
        AdminEndpoint("POST", "/api/v1/user/{oldId}/rename/{newName}", "RenameUser", "Renames a user"),
        AdminEndpoint("GET", "/api/v1/preauthkey", "ListPreAuthKeys", "Lists pre-auth keys, optionally of one user"),
        AdminEndpoint("POST", "/api/v1/preauthkey", "CreatePreAuthKey", "Creates a pre-auth key"),
        AdminEndpoint("POST", "/api/v1/preauthkey/expire", "ExpirePreAuthKey", "Expires a pre-auth key"),
        AdminEndpoint("DELETE", "/api/v1/preauthkey", "DeletePreAuthKey", "Deletes a pre-auth key"),
        AdminEndpoint("GET", "/api/v1/node", "ListNodes", "Lists nodes, optionally of one user"),
        AdminEndpoint("POST", "/api/v1/node/register", "RegisterNode", "Registers a pending node to a user"),
        AdminEndpoint(
            "POST",
            "/api/v1/node/backfillips",
            "BackfillNodeIPs",
            "Gives nodes the addresses their prefixes lack"
        ),
        AdminEndpoint("GET", "/api/v1/node/{nodeId}", "GetNode", "Returns one node"),
        AdminEndpoint("DELETE", "/api/v1/node/{nodeId}", "DeleteNode", "Deletes a node"),
        AdminEndpoint(
            "POST",
            "/api/v1/node/{nodeId}/expire",
            "ExpireNode",
            "Expires a node's key now or at a given time"
        ),
        AdminEndpoint("POST", "/api/v1/node/{nodeId}/rename/{newName}", "RenameNode", "Sets a node's given name"),
        AdminEndpoint("POST", "/api/v1/node/{nodeId}/tags", "SetTags", "Replaces a node's tags"),
        AdminEndpoint(
            "POST",
            "/api/v1/node/{nodeId}/approve_routes",
            "SetApprovedRoutes",
            "Replaces a node's approved routes"
        ),
        AdminEndpoint("GET", "/api/v1/apikey", "ListApiKeys", "Lists API keys"),
        AdminEndpoint("POST", "/api/v1/apikey", "CreateApiKey", "Creates an API key and returns its secret once"),
        AdminEndpoint("POST", "/api/v1/apikey/expire", "ExpireApiKey", "Expires an API key"),
        AdminEndpoint("DELETE", "/api/v1/apikey", "DeleteApiKeyByID", "Deletes an API key by id"),
        AdminEndpoint("DELETE", "/api/v1/apikey/{prefix}", "DeleteApiKey", "Deletes an API key by prefix"),
        AdminEndpoint("GET", "/api/v1/policy", "GetPolicy", "Returns the policy stored in the database"),
        AdminEndpoint("PUT", "/api/v1/policy", "SetPolicy", "Checks and stores a new policy"),
        AdminEndpoint("POST", "/api/v1/policy/check", "CheckPolicy", "Checks a policy without storing it"),
        AdminEndpoint(
            "POST",
            "/api/v1/auth/register",
            "AuthRegister",
            "Registers a pending interactive login to a user"
        ),
        AdminEndpoint("POST", "/api/v1/auth/approve", "AuthApprove", "Approves a pending login or SSH check"),
        AdminEndpoint("POST", "/api/v1/auth/reject", "AuthReject", "Rejects a pending login"),
        AdminEndpoint("POST", "/api/v1/debug/node", "DebugCreateNode", "Creates a node with random keys, for tests"),
    ]

    /// Returns the listed endpoint that `method` and the path `segments` fit, if any.
    static func endpoint(method: String, segments: [String]) -> AdminEndpoint? {
        endpoints.first { $0.matches(method: method, segments: segments) }
    }
}
