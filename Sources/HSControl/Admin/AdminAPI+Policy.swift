import HSHTTP

extension AdminAPI {
    /// `/api/v1/policy` routes.
    func routePolicy(_ request: HTTPRequest, resource: [String]) throws -> [UInt8] {
        // TODO: the /api/v1/policy endpoints are not implemented yet.
        throw AdminError(kind: .unimplemented, message: "/api/v1/policy is not implemented by this server yet")
    }
}
