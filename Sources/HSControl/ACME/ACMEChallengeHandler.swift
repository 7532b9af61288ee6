import HSHTTP
import Synchronization

/// The tokens of pending `http-01` challenges and their key authorizations.
final class ACMEChallengeTokens: Sendable {
    private let tokens = Mutex<[String: String]>([:])

    func publish(token: String, keyAuthorization: String) {
        tokens.withLock { $0[token] = keyAuthorization }
    }

    func removeAll() {
        tokens.withLock { $0.removeAll() }
    }

    func keyAuthorization(for token: String) -> String? {
        tokens.withLock { $0[token] }
    }
}

/// Serves `tls_letsencrypt_listen`: the key authorization of each pending `http-01` challenge at
/// `/.well-known/acme-challenge/<token>`, and a 302 redirect to `server_url` for anything else.
struct ACMEChallengeHandler: HTTPHandler {
    static let prefix = "/.well-known/acme-challenge/"
    let tokens: ACMEChallengeTokens
    let serverURL: String

    func handle(_ request: HTTPRequest, responder: any HTTPResponder) {
        guard request.path.hasPrefix(Self.prefix) else {
            var base = serverURL
            while base.hasSuffix("/") { base.removeLast() }
            responder.respond(HTTPResponse(status: 302, headers: ["Location": base + request.target]))
            return
        }
        let token = String(request.path.dropFirst(Self.prefix.count))
        guard request.method == "GET" || request.method == "HEAD",
            let keyAuthorization = tokens.keyAuthorization(for: token)
        else {
            responder.respond(.text(404, "no pending ACME challenge has this token\n"))
            return
        }
        responder.respond(
            HTTPResponse(status: 200, headers: ["Content-Type": "text/plain"], body: Array(keyAuthorization.utf8))
        )
    }
}
