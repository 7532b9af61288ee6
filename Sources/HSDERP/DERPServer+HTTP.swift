import HSCore
import HSHTTP
import Synchronization

extension DERPServer {
    /// Serves `GET /derp`: upgrades the connection to DERP.
    ///
    /// With `Upgrade: DERP` (any case) it sends `101 Switching Protocols` with `Upgrade: DERP`,
    /// `Connection: Upgrade`, `Derp-Version: 2` and `Derp-Public-Key: <64 hex digits>`, then speaks
    /// DERP on the raw stream. `Upgrade: websocket` with the subprotocol `derp` goes to
    /// ``handleWebSocketUpgrade(_:responder:)``. Any other `Upgrade` value gets 426; a shut-down
    /// server responds 503.
    public func handleUpgrade(_ request: HTTPRequest, responder: any HTTPResponder) {
        let upgrade = request.headers["Upgrade"] ?? ""
        let isWebSocket = upgrade.caseInsensitiveEquals("websocket")
        if isWebSocket, WebSocketHandshake.offersSubprotocol("derp", in: request) {
            handleWebSocketUpgrade(request, responder: responder)
            return
        }
        // Early Tailscale clients sent `Upgrade: WebSocket` but spoke plain DERP, so Tailscale's
        // derper and Headscale serve plain DERP when the derp subprotocol is missing.
        guard upgrade.caseInsensitiveEquals("derp") || isWebSocket else {
            responder.respond(.text(426, "DERP requires connection upgrade"))
            return
        }
        guard !registry.withLock({ $0.isShutDown }) else {
            responder.respond(.text(503, "DERP server is shutting down"))
            return
        }
        // NOTE: a client sends `Derp-Fast-Start: 1` and expects no HTTP response only after finding
        // the server's DERP meta certificate in the TLS chain. This server never adds one, so the
        // header does not occur and every upgrade gets its 101.
        let head = HTTPResponse(
            status: 101,
            headers: [
                "Upgrade": "DERP",
                "Connection": "Upgrade",
                "Derp-Version": String(DERP.protocolVersion),
                "Derp-Public-Key": Hex.encode(publicKey.bytes),
            ]
        )
        responder.upgrade(head) { stream, initialBytes in
            self.accept(stream, initialBytes: initialBytes)
        }
    }

    /// Serves the probe paths Tailscale clients use to measure latency and detect captive portals.
    ///
    /// `/derp/probe` and `/derp/latency-check`: GET or HEAD → 200 with
    /// `Access-Control-Allow-Origin: *`, other methods → 405. `/generate_204`: 204 with no-cache
    /// headers, echoing `X-Tailscale-Challenge` as `X-Tailscale-Response: response <challenge>`
    /// when the challenge is at most 64 characters of `[A-Za-z0-9._:-]`. Other paths → 404.
    public func handleProbe(_ request: HTTPRequest, responder: any HTTPResponder) {
        responder.respond(Self.probeResponse(for: request))
    }

    static func probeResponse(for request: HTTPRequest) -> HTTPResponse {
        switch request.path {
        case "/derp/probe", "/derp/latency-check":
            guard request.method == "GET" || request.method == "HEAD" else {
                return .text(405, "bogus probe method")
            }
            return HTTPResponse(status: 200, headers: ["Access-Control-Allow-Origin": "*"])
        case "/generate_204":
            var headers: HTTPHeaders = ["Cache-Control": "no-cache, no-store, must-revalidate, no-transform, max-age=0"]
            if let challenge = request.headers["X-Tailscale-Challenge"], isValidChallenge(challenge) {
                headers.set("X-Tailscale-Response", "response " + challenge)
            }
            return HTTPResponse(status: 204, headers: headers)
        default:
            return .text(404, "not found: \(request.path.prefix(100))")
        }
    }

    /// True for 1 to 64 characters of `[A-Za-z0-9._:-]`; anything else is not echoed back.
    static func isValidChallenge(_ challenge: String) -> Bool {
        let bytes = Array(challenge.utf8)
        guard !bytes.isEmpty, bytes.count <= 64 else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: ":"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
    }
}
