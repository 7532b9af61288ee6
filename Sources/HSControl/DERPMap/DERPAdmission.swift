import Foundation
import HSCore
import HSHTTP

/// Decides which node keys may use a DERP relay: the embedded one (`derp.server.verify_clients`)
/// and external `derper`s that call `POST /verify` (their `--verify-client-url`).
struct DERPAdmission: Sendable {
    /// Largest `/verify` request body accepted.
    static let maxBodyBytes = 4 << 10

    let plane: ControlPlane

    /// Returns whether `key` belongs to a registered node.
    func admits(_ key: NodePublicKey) -> Bool {
        plane.isKnownNodeKey(key)
    }

    /// Serves `POST /verify`: Tailscale's `DERPAdmitClientRequest` JSON, `{"NodePublic":
    /// "nodekey:<64 hex>", "Source": "<IP>"}`. The response is `{"Allow": true|false}`.
    func handleVerify(_ request: HTTPRequest, responder: any HTTPResponder) {
        guard request.method == "POST" else {
            responder.respond(.text(405, "use POST /verify with a JSON DERPAdmitClientRequest\n"))
            return
        }
        guard request.body.count <= Self.maxBodyBytes else {
            responder.respond(.text(413, "request body is larger than \(Self.maxBodyBytes) bytes\n"))
            return
        }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(request.body)),
            let text = value["NodePublic"]?.stringValue
        else {
            responder.respond(
                .text(400, "invalid request: send JSON {\"NodePublic\": \"nodekey:<hex>\", \"Source\": \"<IP>\"}\n")
            )
            return
        }
        guard let key = NodePublicKey(text: text) else {
            responder.respond(
                .text(400, "invalid NodePublic \"\(text.prefix(80))\": expected nodekey: and 64 hex digits\n")
            )
            return
        }
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("Allow")
        writer.bool(admits(key))
        writer.endObject()
        responder.respond(.json(200, writer.bytes))
    }
}
