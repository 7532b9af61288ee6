import Foundation
import HSCore
import HSCrypto
import HSDERP
import HSHTTP
import HSNoise
import HSPosix

/// The main listener's routes: key discovery, the Noise upgrade, health, the embedded DERP relay
/// and the admin REST API.
struct ControlHTTPHandler: HTTPHandler {
    let noiseKey: Curve25519PrivateKey
    let noisePublicKey: MachinePublicKey
    let router: NoiseRouter
    let derp: DERPServer?
    let admission: DERPAdmission
    let admin: AdminAPI
    let logger: Logger
    /// One warning per client address and offence per 10 s for failed handshakes and sessions.
    let offenders: RateLimitedLog
    let metrics: ServerMetrics
    /// The OIDC login pages; nil when OIDC is off, and `/register/<id>` shows the `auth register` page.
    var oidc: OIDCWebHandler?

    func handle(_ request: HTTPRequest, responder original: any HTTPResponder) {
        let responder = CountingResponder(inner: original, path: request.path, metrics: metrics)
        switch request.path {
        case "/key":
            responder.respond(keyResponse(request))
        case "/ts2021":
            upgradeToNoise(request, responder: responder)
        case "/health":
            responder.respond(admin.health())
        case OpenAPIDocument.path where request.method == "GET" || request.method == "HEAD":
            responder.respond(OpenAPIDocument.response())
        case "/version" where request.method == "GET" || request.method == "HEAD":
            responder.respond(.json(200, BuildInfo.json.encoded()))
        case "/robots.txt":
            responder.respond(.text(200, "User-agent: *\nDisallow: /\n"))
        case "/derp" where derp != nil:
            derp?.handleUpgrade(request, responder: responder)
        case "/derp/probe", "/derp/latency-check", "/generate_204":
            if let derp {
                derp.handleProbe(request, responder: responder)
            } else {
                responder.respond(.text(404, "embedded DERP relay is disabled\n"))
            }
        case "/verify":
            admission.handleVerify(request, responder: responder)
        case let path where path.hasPrefix("/register/confirm/") && request.method == "POST" && oidc != nil:
            oidc?.confirm(request, responder: responder)
        case "/oidc/callback" where oidc != nil && request.method == "GET":
            oidc?.callback(request, responder: responder)
        case let path where path.hasPrefix("/register/") && (request.method == "GET" || request.method == "HEAD"):
            if let oidc {
                oidc.begin(request, responder: responder)
            } else {
                responder.respond(RegistrationPage.response(path: path, plane: router.plane))
            }
        case let path where path.hasPrefix("/api/v1/"):
            admin.handle(request, responder: responder, requiresAPIKey: true)
        case "/":
            responder.respond(.text(200, "headscale coordination server\n"))
        default:
            responder.respond(.text(404, "not found\n"))
        }
    }

    /// `GET /key?v=N`: the server's Noise public key. The legacy key is all zeros because this
    /// server speaks only the Noise protocol.
    private func keyResponse(_ request: HTTPRequest) -> HTTPResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            return .text(405, "use GET /key?v=<capability version>\n")
        }
        guard let version = request.queryValue("v"), Int(version) != nil else {
            return .text(400, "missing or invalid capability version: use GET /key?v=<capability version>\n")
        }
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("legacyPublicKey")
        writer.string(MachinePublicKey.zero.text)
        writer.key("publicKey")
        writer.string(noisePublicKey.text)
        writer.endObject()
        return .json(200, writer.bytes)
    }

    /// `POST /ts2021`: completes the Noise handshake carried in `X-Tailscale-Handshake`, answers
    /// 101, and hands the connection to a ``NoiseSession``.
    private func upgradeToNoise(_ request: HTTPRequest, responder: any HTTPResponder) {
        guard let upgrade = request.headers["Upgrade"] else {
            responder.respond(.text(
                400,
                "missing Upgrade header; if a reverse proxy sits in front of headscale, let it pass "
                    + "Upgrade and Connection through\n"
            ))
            return
        }
        guard upgrade.lowercased() == "tailscale-control-protocol" else {
            offenders.note(
                "rejected a /ts2021 upgrade to another protocol",
                kind: "noise-upgrade",
                peer: request.remoteAddress
            )
            responder.respond(.text(400, "unsupported upgrade protocol; expected tailscale-control-protocol\n"))
            return
        }
        guard let header = request.headers["X-Tailscale-Handshake"],
            let initiation = Data(base64Encoded: header), initiation.count <= 1024
        else {
            offenders.note(
                "rejected a /ts2021 upgrade without a valid X-Tailscale-Handshake header",
                kind: "noise-upgrade",
                peer: request.remoteAddress
            )
            responder.respond(.text(400, "missing or invalid X-Tailscale-Handshake header\n"))
            return
        }
        let result: NoiseHandshakeResult
        do {
            result = try NoiseHandshake.respond(to: [UInt8](initiation), serverKey: noiseKey)
        } catch {
            logger.debug("Noise handshake failed", [("peer.addr", request.remoteAddress), ("error", "\(error)")])
            offenders.note(
                "rejected a Noise handshake initiation",
                kind: "noise-handshake",
                peer: request.remoteAddress,
                [("error", "\(error)")]
            )
            responder.respond(.text(400, "Noise handshake failed\n"))
            return
        }
        let head = HTTPResponse(
            status: 101,
            headers: ["Upgrade": "tailscale-control-protocol", "Connection": "upgrade"]
        )
        let version = Int(result.protocolVersion)
        let sessionLogger = logger.with("machine.key", result.peerMachineKey.shortDescription)
        responder.upgrade(head) { [router, offenders] stream, leftover in
            guard version >= minimumCapabilityVersion else {
                stream.write(NoiseHandshake.errorFrame(
                    "client capability version \(version) is too old; this server needs \(minimumCapabilityVersion) "
                        + "(Tailscale v1.80) or newer"
                ))
                stream.close()
                return
            }
            stream.write(result.response)
            do {
                let session = try NoiseSession(
                    stream: stream,
                    transport: result.transport,
                    machineKey: result.peerMachineKey,
                    protocolVersion: result.protocolVersion,
                    router: router,
                    logger: sessionLogger,
                    offenders: offenders
                )
                let challenge = ChallengePublicKey(bytes: Curve25519PrivateKey().publicKeyBytes) ?? .zero
                session.start(earlyPayload: NoiseHandshake.earlyPayload(challenge: challenge), leftover: leftover)
            } catch {
                sessionLogger.error("starting the HTTP/2 session failed", [("error", "\(error)")])
                stream.close()
            }
        }
    }
}
