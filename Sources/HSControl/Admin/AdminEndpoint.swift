/// One endpoint of the `/api/v1` REST API: an HTTP method and a path template such as
/// `/api/v1/node/{nodeId}/rename/{newName}`, where each `{name}` segment matches any one segment.
struct AdminEndpoint: Sendable, Hashable, CustomStringConvertible {
    let method: String
    let template: String

    init(_ method: String, _ template: String) {
        self.method = method
        self.template = template
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
    /// `handle` answers 404 to any request that fits none of them before it routes, so an endpoint
    /// works only once it is listed here, and tests that walk this list (the 401 table) cover it.
    static let endpoints: [AdminEndpoint] = [
        AdminEndpoint("GET", "/api/v1/health"),
        AdminEndpoint("GET", "/api/v1/user"),
        AdminEndpoint("POST", "/api/v1/user"),
        AdminEndpoint("DELETE", "/api/v1/user/{id}"),
        AdminEndpoint("POST", "/api/v1/user/{oldId}/rename/{newName}"),
        AdminEndpoint("GET", "/api/v1/preauthkey"),
        AdminEndpoint("POST", "/api/v1/preauthkey"),
        AdminEndpoint("POST", "/api/v1/preauthkey/expire"),
        AdminEndpoint("DELETE", "/api/v1/preauthkey"),
        AdminEndpoint("GET", "/api/v1/node"),
        AdminEndpoint("POST", "/api/v1/node/register"),
        AdminEndpoint("POST", "/api/v1/node/backfillips"),
        AdminEndpoint("GET", "/api/v1/node/{nodeId}"),
        AdminEndpoint("DELETE", "/api/v1/node/{nodeId}"),
        AdminEndpoint("POST", "/api/v1/node/{nodeId}/expire"),
        AdminEndpoint("POST", "/api/v1/node/{nodeId}/rename/{newName}"),
        AdminEndpoint("POST", "/api/v1/node/{nodeId}/tags"),
        AdminEndpoint("POST", "/api/v1/node/{nodeId}/approve_routes"),
        AdminEndpoint("GET", "/api/v1/apikey"),
        AdminEndpoint("POST", "/api/v1/apikey"),
        AdminEndpoint("POST", "/api/v1/apikey/expire"),
        AdminEndpoint("DELETE", "/api/v1/apikey"),
        AdminEndpoint("DELETE", "/api/v1/apikey/{prefix}"),
        AdminEndpoint("GET", "/api/v1/policy"),
        AdminEndpoint("PUT", "/api/v1/policy"),
        AdminEndpoint("POST", "/api/v1/policy/check"),
        AdminEndpoint("POST", "/api/v1/auth/register"),
        AdminEndpoint("POST", "/api/v1/auth/approve"),
        AdminEndpoint("POST", "/api/v1/auth/reject"),
        AdminEndpoint("POST", "/api/v1/debug/node"),
    ]

    /// Returns the listed endpoint that `method` and the path `segments` fit, if any.
    static func endpoint(method: String, segments: [String]) -> AdminEndpoint? {
        endpoints.first { $0.matches(method: method, segments: segments) }
    }
}
