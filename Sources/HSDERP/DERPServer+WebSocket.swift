import HSCore
import HSHTTP
import Synchronization

extension DERPServer {
    /// Largest WebSocket frame payload accepted: one maximal DERP frame with its header.
    static let maxWebSocketPayload = DERP.maxFrameLength + DERPFrame.headerLength

    /// Serves `GET /derp` with `Upgrade: websocket`: DERP inside WebSocket binary messages.
    ///
    /// The request must offer the subprotocol `derp` in `Sec-WebSocket-Protocol` and carry a valid
    /// RFC 6455 key and version 13; otherwise the response is 400 or 426. On success the server sends
    /// `101 Switching Protocols` with `Sec-WebSocket-Accept` and `Sec-WebSocket-Protocol: derp`,
    /// then speaks DERP, starting with ServerKey, through a ``WebSocketStream``.
    public func handleWebSocketUpgrade(_ request: HTTPRequest, responder: any HTTPResponder) {
        guard WebSocketHandshake.offersSubprotocol("derp", in: request) else {
            responder.respond(.text(426, "DERP over WebSocket requires the subprotocol derp in Sec-WebSocket-Protocol"))
            return
        }
        let key: String
        switch WebSocketHandshake.clientKey(of: request) {
        case .success(let value):
            key = value
        case .failure(let failure):
            responder.respond(.text(400, failure.message))
            return
        }
        guard !registry.withLock({ $0.isShutDown }) else {
            responder.respond(.text(503, "DERP server is shutting down"))
            return
        }
        let head = HTTPResponse(
            status: 101,
            headers: [
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Accept": WebSocketHandshake.acceptValue(forKey: key),
                "Sec-WebSocket-Protocol": "derp",
            ]
        )
        let logger = self.logger.with("remote", request.remoteAddress)
        responder.upgrade(head) { raw, initialBytes in
            let stream = WebSocketStream(raw: raw, maxPayloadLength: Self.maxWebSocketPayload) { error in
                logger.info("closing DERP WebSocket connection", [("error", error.message)])
            }
            stream.start(initialBytes: [])
            self.accept(stream, initialBytes: [])
            if !initialBytes.isEmpty {
                stream.stream(raw, didRead: initialBytes)
            }
        }
    }
}
