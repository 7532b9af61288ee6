import Foundation
import HSCore
import HSHTTP

/// The `/api/v1` REST API of Headscale 0.29, served on the main listener (API key required) and on
/// the local unix socket (no key: file permissions guard it).
struct AdminAPI: Sendable {
    let storage: any AdminStorage
    let plane: ControlPlane
    let logger: Logger
    /// Validates and applies policy changes; nil in tests that only store policy text.
    var policyManager: PolicyManager? = nil

    /// Largest request body the admin API reads.
    static let maxBodyBytes = 1 << 20

    func handle(_ request: HTTPRequest, responder: any HTTPResponder, requiresAPIKey: Bool) {
        if requiresAPIKey, !isAuthorized(request) {
            logger.info(
                "admin request rejected: missing or invalid API key",
                [
                    ("method", request.method), ("path", request.path), ("remote", request.remoteAddress),
                ]
            )
            let error = AdminError(
                kind: .unauthenticated,
                message: "missing, invalid or expired API key; send Authorization: Bearer <api key>"
            )
            responder.respond(failure(error))
            return
        }
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard segments.count >= 3, segments[0] == "api", segments[1] == "v1",
            Self.endpoint(method: request.method, segments: segments) != nil
        else {
            responder.respond(failure(.notFound("unknown API path \(request.method) \(request.path)")))
            return
        }
        do {
            let body = try route(request, resource: Array(segments.dropFirst(2)))
            responder.respond(.json(200, body))
        } catch let error as AdminError {
            logger.info(
                "admin request failed",
                [
                    ("method", request.method), ("path", request.path), ("status", String(error.httpStatus)),
                    ("error", error.message),
                ]
            )
            responder.respond(failure(error))
        } catch {
            logger.error("admin request failed", [("path", request.path), ("error", "\(error)")])
            responder.respond(failure(AdminError(kind: .internal, message: "internal error: \(error)")))
        }
    }

    private func isAuthorized(_ request: HTTPRequest) -> Bool {
        guard let header = request.headers["Authorization"], header.hasPrefix("Bearer ") else { return false }
        let key = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        return !key.isEmpty && storage.isValidAPIKey(key, now: Date())
    }

    private func failure(_ error: AdminError) -> HTTPResponse {
        .json(error.httpStatus, AdminJSON.error(error))
    }

    /// The answer to `GET /health`: database reachability.
    func health() -> HTTPResponse {
        let reachable = storage.isReachable()
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("databaseConnectivity")
        writer.bool(reachable)
        writer.endObject()
        return .json(reachable ? 200 : 503, writer.bytes)
    }

    private func route(_ request: HTTPRequest, resource: [String]) throws -> [UInt8] {
        switch (request.method, resource.first ?? "") {
        case ("GET", "health"):
            return health().body
        case (_, "user"):
            return try routeUsers(request, resource: resource)
        case (_, "preauthkey"):
            return try routePreAuthKeys(request, resource: resource)
        case (_, "node"):
            return try routeNodes(request, resource: resource)
        case (_, "apikey"):
            return try routeAPIKeys(request, resource: resource)
        case (_, "policy"):
            return try routePolicy(request, resource: resource)
        case (_, "auth"):
            return try routeAuth(request, resource: resource)
        case (_, "debug"):
            return try routeDebug(request, resource: resource)
        default:
            throw AdminError.notFound("unknown API path \(request.path)")
        }
    }
}

/// Parsing helpers shared by the resource handlers.
extension AdminAPI {
    /// Parses a decimal id from a path segment or field, naming `field` when it is invalid.
    static func parseID(_ text: String?, field: String) throws -> UInt64 {
        guard let text, let id = UInt64(text), id > 0 else {
            throw AdminError.invalid("invalid \(field) \"\(text?.prefix(40) ?? "")\": expected a positive integer")
        }
        return id
    }

    /// Decodes a JSON object body; an empty body is an empty object.
    static func decodeBody(_ request: HTTPRequest) throws -> JSONValue {
        guard !request.body.isEmpty else { return .object([]) }
        guard request.body.count <= maxBodyBytes,
            let value = try? JSONDecoder().decode(JSONValue.self, from: Data(request.body)),
            case .object = value
        else {
            throw AdminError.invalid("request body is not a JSON object")
        }
        return value
    }

    /// Reads a boolean field that may also arrive as the text `"true"`/`"false"`.
    static func bool(_ value: JSONValue?) -> Bool {
        switch value {
        case .bool(let flag): flag
        case .string(let text): text == "true"
        default: false
        }
    }

    /// Reads an id field sent as a string or a number.
    static func idText(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text): text
        case .integer(let number): String(number)
        default: nil
        }
    }
}
