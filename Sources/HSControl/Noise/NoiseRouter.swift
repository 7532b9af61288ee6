import Foundation
import HSCore
import HSHTTP2
import HSPosix

/// Routes the HTTP/2 requests that arrive inside a Noise channel.
///
/// Routing uses the path only: clients put varying hosts in `:authority`.
struct NoiseRouter: Sendable {
    let plane: ControlPlane
    let logger: Logger
    var limits = NoiseLimits()

    /// Paths clients may call that this server does not offer; they get 501 instead of 404.
    static let unsupportedPaths: Set<String> = [
        "/machine/set-dns", "/machine/id-token", "/machine/audit-log", "/machine/set-device-attr",
        "/machine/feature/query", "/machine/update-health", "/machine/whoami", "/machine/c2n",
    ]

    func route(_ request: HTTP2Request, session: NoiseSession) {
        switch (request.method, request.path) {
        case ("POST", "/machine/register"):
            handleRegister(request, session: session)
        case ("POST", "/machine/map"):
            handleMap(request, session: session)
        case (_, let path) where Self.unsupportedPaths.contains(path):
            session.respond(
                request.streamID,
                status: 501,
                contentType: "text/plain",
                body: Array("not implemented\n".utf8)
            )
        default:
            session.respond(request.streamID, status: 404, contentType: "text/plain", body: Array("not found\n".utf8))
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ request: HTTP2Request, session: NoiseSession) -> T? {
        do {
            return try JSONDecoder().decode(type, from: Data(request.body))
        } catch {
            logger.debug("malformed control request", [("path", request.path), ("error", "\(error)")])
            let message = "invalid \(request.path) request body: \(Self.describe(error))\n"
            session.respond(request.streamID, status: 400, contentType: "text/plain", body: Array(message.utf8))
            return nil
        }
    }

    /// Answers on the session's queue: at once for most requests, later for a follow-up that
    /// waits for an administrator, so the connection keeps serving its other streams meanwhile.
    private func handleRegister(_ request: HTTP2Request, session: NoiseSession) {
        guard let body = decode(RegisterRequest.self, request, session: session) else { return }
        let streamID = request.streamID
        let queue = session.stream.queue
        plane.register(body, machineKey: session.machineKey, peer: session.stream.remoteAddress) {
            [weak session] outcome in
            queue.async { [weak session] in
                guard let session else { return }
                switch outcome {
                case .response(let json):
                    session.respond(streamID, status: 200, contentType: "application/json", body: json)
                case .badRequest(let text):
                    session.respond(streamID, status: 400, contentType: "text/plain", body: Array(text.utf8))
                }
            }
        }
    }

    private func handleMap(_ request: HTTP2Request, session: NoiseSession) {
        guard let body = decode(MapRequest.self, request, session: session) else { return }
        guard body.version >= minimumCapabilityVersion else {
            let text =
                "client capability version \(body.version) is too old; this server needs \(minimumCapabilityVersion)"
            session.respond(request.streamID, status: 400, contentType: "text/plain", body: Array(text.utf8))
            return
        }
        guard body.compress == "zstd" || body.compress.isEmpty else {
            let text = "unsupported map compression \"\(body.compress.prefix(32))\"; use zstd"
            session.respond(request.streamID, status: 400, contentType: "text/plain", body: Array(text.utf8))
            return
        }
        do {
            if body.stream {
                let handle = MapStreamHandle(session: session, streamID: request.streamID, plane: plane)
                let (token, first) = try plane.openMapStream(body, machineKey: session.machineKey, sink: handle)
                session.startMapStream(request.streamID, handle: handle, firstMessage: first)
                plane.metrics.recordMapMessage(.full, byteCount: first.count)
                handle.attach(token: token)
            } else {
                let full = try plane.applyMapUpdate(body, machineKey: session.machineKey)
                if let full {
                    plane.metrics.recordMapMessage(.full, byteCount: full.count)
                }
                session.respond(request.streamID, status: 200, contentType: "application/octet-stream", body: full ?? [])
            }
        } catch {
            session.respond(
                request.streamID,
                status: 404,
                contentType: "text/plain",
                body: Array("node not found\n".utf8)
            )
        }
    }

    /// A short description of a JSON decoding failure that echoes no request bytes.
    static func describe(_ error: any Error) -> String {
        guard let decodingError = error as? DecodingError else { return "not valid JSON" }
        switch decodingError {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
            .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "not valid JSON" : "bad value at \(path)"
        @unknown default:
            return "not valid JSON"
        }
    }
}
