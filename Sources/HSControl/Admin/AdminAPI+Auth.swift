import HSHTTP

extension AdminAPI {
    /// `/api/v1/auth` routes.
    func routeAuth(_ request: HTTPRequest, resource: [String]) throws -> [UInt8] {
        // TODO: the /api/v1/auth endpoints are not implemented yet.
        throw AdminError(kind: .unimplemented, message: "/api/v1/auth is not implemented by this server yet")
    }
}
