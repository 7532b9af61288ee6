import Dispatch
import Foundation
import HSCore
import HSCrypto
import HSHTTP
import HSStore

/// The browser side of OIDC logins on the main listener:
///
/// 1. `GET /register/<auth id>` sends the browser to the provider, with `state`, `nonce` (and a
///    PKCE challenge) and a cookie that binds `state` to this browser.
/// 2. `GET /oidc/callback` checks the cookie and `state`, exchanges the code, verifies the ID
///    token, applies the `allowed_*` filters, creates or refreshes the user, and shows the machine
///    to confirm, with a form bound to the browser by a second cookie.
/// 3. `POST /register/confirm/<auth id>` registers the machine to that user.
///
/// The confirmation step stops a login link sent by someone else from registering their machine
/// to the victim's account without the victim seeing which machine it is.
struct OIDCWebHandler: Sendable {
    static let stateCookie = "hs_oidc_state"
    static let confirmCookie = "hs_oidc_confirm"
    let provider: OIDCProvider
    let logins = OIDCLogins()
    let plane: ControlPlane
    let serverURL: String
    let upsertUser: @Sendable (ProviderUserClaims) throws -> UInt64
    let logger: Logger
    private let work = DispatchQueue(label: "headscale.oidc", attributes: .concurrent)

    init(
        provider: OIDCProvider,
        plane: ControlPlane,
        serverURL: String,
        logger: Logger,
        upsertUser: @escaping @Sendable (ProviderUserClaims) throws -> UInt64
    ) {
        self.provider = provider
        self.plane = plane
        self.serverURL = serverURL
        self.logger = logger
        self.upsertUser = upsertUser
    }

    var redirectURI: String { serverURL + "/oidc/callback" }

    /// Step 1: redirects to the provider's authorization endpoint.
    func begin(_ request: HTTPRequest, responder: any HTTPResponder) {
        let text = String(request.path.dropFirst("/register/".count))
        guard let authID = AuthRequestID(parsing: text), plane.pendingLogin(authID) != nil else {
            responder.respond(
                OIDCPages.message(
                    404,
                    "No login is waiting under this link; it may have expired. Run tailscale up again."
                )
            )
            return
        }
        let settings = provider.settings
        let verifier = settings.pkceEnabled ? OIDCLogins.token() : nil
        let nonce = OIDCLogins.token()
        let state = logins.begin(OIDCFlow(authID: authID, nonce: nonce, verifier: verifier, createdAt: .now))
        var query = [
            ("response_type", "code"), ("client_id", settings.clientID), ("redirect_uri", redirectURI),
            ("scope", settings.scope.joined(separator: " ")), ("state", state), ("nonce", nonce),
        ]
        if let verifier {
            let challenge =
                settings.pkceMethod == "plain" ? verifier : Base64URL.encode(SHA256.hash(Array(verifier.utf8)))
            query += [("code_challenge", challenge), ("code_challenge_method", settings.pkceMethod)]
        }
        query += settings.extraParams
        let separator = provider.authorizationEndpoint.contains("?") ? "&" : "?"
        let location = provider.authorizationEndpoint + separator + FormEncoding.encode(query)
        var response = HTTPResponse(status: 302, headers: ["Location": location, "Cache-Control": "no-store"])
        response.headers.add("Set-Cookie", cookie(Self.stateCookie, state, path: "/oidc/callback"))
        responder.respond(response)
    }

    /// Step 2: verifies the provider's answer and shows the confirmation page.
    func callback(_ request: HTTPRequest, responder: any HTTPResponder) {
        if let error = request.queryValue("error") {
            let detail = request.queryValue("error_description") ?? error
            responder.respond(OIDCPages.message(403, "The identity provider rejected the login: \(detail)"))
            return
        }
        guard let code = request.queryValue("code"), let state = request.queryValue("state"),
            Self.cookie(Self.stateCookie, in: request) == state, let flow = logins.finish(state: state)
        else {
            responder.respond(
                OIDCPages.message(
                    400,
                    "This login link is invalid, expired, or was opened in another browser. Run tailscale up again."
                )
            )
            return
        }
        work.async {
            responder.respond(finishLogin(flow, code: code, remote: request.remoteAddress))
        }
    }

    /// Step 3: registers the machine to the user the provider vouched for.
    func confirm(_ request: HTTPRequest, responder: any HTTPResponder) {
        let path = String(request.path.dropFirst("/register/confirm/".count))
        let form = FormEncoding.decode(String(decoding: request.body.prefix(4096), as: UTF8.self))
        guard let token = form["token"], Self.cookie(Self.confirmCookie, in: request) == token,
            let confirmation = logins.confirm(token: token), confirmation.authID.text == path
        else {
            responder.respond(
                OIDCPages.message(400, "This confirmation is invalid or expired. Run tailscale up again.")
            )
            return
        }
        do {
            let node = try plane.completeInteractiveLogin(confirmation.authID, userID: confirmation.userID)
            if let expiry = confirmation.expiry {
                _ = try plane.setExpiry(id: node.id, to: expiry)
            }
            logger.info(
                "OIDC login registered",
                [("node.id", String(node.id)), ("user.id", String(confirmation.userID))]
            )
            responder.respond(
                OIDCPages.message(200, "The machine \(node.givenName) is registered. You can close this page.")
            )
        } catch {
            logger.warning("OIDC login could not be registered", [("auth.id", path), ("error", "\(error)")])
            responder.respond(OIDCPages.message(409, "The machine could not be registered: \(error)"))
        }
    }

    private func finishLogin(_ flow: OIDCFlow, code: String, remote: String) -> HTTPResponse {
        do {
            let tokens = try provider.exchange(code: code, redirectURI: redirectURI, codeVerifier: flow.verifier)
            guard let idToken = tokens["id_token"]?.stringValue else {
                throw OIDCError("the provider's token response has no id_token; check that oidc.scope contains openid")
            }
            let identity = try OIDCIDToken.verify(idToken, provider: provider, nonce: flow.nonce, now: Date())
            try OIDCAccess.check(identity, settings: provider.settings)
            let userID = try upsertUser(claims(identity))
            try plane.reloadUsers()
            guard let pending = plane.pendingLogin(flow.authID) else {
                throw OIDCError("the machine's login request expired meanwhile; run tailscale up again")
            }
            let expiry = provider.settings.useExpiryFromToken ? identity.expiresAt : nil
            let token = logins.awaitConfirmation(
                OIDCConfirmation(authID: flow.authID, userID: userID, expiry: expiry, createdAt: .now)
            )
            let hostname = pending.request.hostinfo?["Hostname"]?.stringValue ?? "unknown"
            var page = OIDCPages.confirmation(
                authID: flow.authID,
                token: token,
                hostname: hostname,
                machineKey: pending.machineKey.text,
                userName: identity.userName(emailVerifiedRequired: provider.settings.emailVerifiedRequired)
            )
            page.headers.add("Set-Cookie", cookie(Self.confirmCookie, token, path: "/register/confirm/"))
            return page
        } catch {
            logger.warning("OIDC login failed", [("remote", remote), ("error", "\(error)")])
            return OIDCPages.message(403, "The login failed: \(error)")
        }
    }

    private func claims(_ identity: OIDCIdentity) -> ProviderUserClaims {
        let settings = provider.settings
        let email = identity.emailVerified || !settings.emailVerifiedRequired ? identity.email : ""
        return ProviderUserClaims(
            providerIdentifier: identity.issuer.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/"
                + identity.subject,
            name: identity.userName(emailVerifiedRequired: settings.emailVerifiedRequired),
            displayName: identity.name,
            email: email,
            pictureURL: identity.picture
        )
    }

    private func cookie(_ name: String, _ value: String, path: String) -> String {
        let secure = serverURL.lowercased().hasPrefix("https://") ? "; Secure" : ""
        return "\(name)=\(value); Path=\(path); Max-Age=600; HttpOnly; SameSite=Lax\(secure)"
    }

    static func cookie(_ name: String, in request: HTTPRequest) -> String? {
        for header in request.headers.values("Cookie") {
            for pair in header.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == name { return String(parts[1]) }
            }
        }
        return nil
    }
}
