import HSHTTP

extension AdminAPI {
    /// `/api/v1/debug` routes.
    func routeDebug(_ request: HTTPRequest, resource: [String]) throws -> [UInt8] {
        // TODO: the /api/v1/debug endpoints are not implemented yet.
        throw AdminError(kind: .unimplemented, message: "/api/v1/debug is not implemented by this server yet")
    }
}
