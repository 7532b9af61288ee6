import HSHTTP

extension AdminAPI {
    /// `/api/v1/apikey` routes.
    func routeAPIKeys(_ request: HTTPRequest, resource: [String]) throws -> [UInt8] {
        // TODO: the /api/v1/apikey endpoints are not implemented yet.
        throw AdminError(kind: .unimplemented, message: "/api/v1/apikey is not implemented by this server yet")
    }
}
