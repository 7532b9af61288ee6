extension Config {
    /// `oidc.*`: logins through an OpenID Connect provider.
    public struct OIDC: Sendable, Equatable {
        /// `oidc.issuer`: the provider's issuer URL; empty turns OIDC off.
        public var issuer: String
        public var clientID: String
        /// `oidc.client_secret`, empty when the secret comes from ``clientSecretPath``.
        public var clientSecret: String
        /// `oidc.client_secret_path`: absolute path of a file holding the secret.
        public var clientSecretPath: String?
        public var scope: [String]
        /// `oidc.extra_params`: added to the authorization request's query, sorted by name.
        public var extraParams: [String: String]
        public var allowedDomains: [String]
        public var allowedUsers: [String]
        public var allowedGroups: [String]
        public var emailVerifiedRequired: Bool
        public var pkceEnabled: Bool
        /// `oidc.pkce.method`: `S256` or `plain`.
        public var pkceMethod: String
        public var useExpiryFromToken: Bool
        public var onlyStartIfAvailable: Bool

        public var isEnabled: Bool { !issuer.isEmpty }
    }
}

extension ConfigDecoder {
    mutating func decodeOIDC() -> Config.OIDC {
        let issuer = has("oidc.issuer") ? httpURL("oidc.issuer", example: "https://sso.example.com") ?? "" : ""
        let secret = string("oidc.client_secret", default: "")
        let secretPath = filePath("oidc.client_secret_path")
        var scope = list("oidc.scope").map(\.text)
        if !has("oidc.scope") { scope = ["openid", "profile", "email"] }
        let oidc = Config.OIDC(
            issuer: issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer,
            clientID: string("oidc.client_id", default: ""),
            clientSecret: secret,
            clientSecretPath: secretPath,
            scope: scope,
            extraParams: decodeExtraParams(),
            allowedDomains: list("oidc.allowed_domains").map { $0.text.lowercased() },
            allowedUsers: list("oidc.allowed_users").map(\.text),
            allowedGroups: list("oidc.allowed_groups").map(\.text),
            emailVerifiedRequired: bool("oidc.email_verified_required", default: true),
            pkceEnabled: bool("oidc.pkce.enabled", default: false),
            pkceMethod: string("oidc.pkce.method", default: "S256"),
            useExpiryFromToken: bool("oidc.use_expiry_from_token", default: false),
            onlyStartIfAvailable: bool("oidc.only_start_if_oidc_is_available", default: true)
        )
        checkOIDC(oidc)
        return oidc
    }

    private mutating func checkOIDC(_ oidc: Config.OIDC) {
        guard oidc.isEnabled else { return }
        if oidc.clientID.isEmpty {
            problem("oidc.client_id: missing, but oidc.issuer is set; set the client ID the provider gave this server")
        }
        if !oidc.clientSecret.isEmpty, oidc.clientSecretPath != nil {
            problem("oidc.client_secret and oidc.client_secret_path: set one of them, not both")
        }
        if oidc.clientSecret.isEmpty, oidc.clientSecretPath == nil {
            problem("oidc.client_secret: missing; set it, or oidc.client_secret_path to a file that contains it")
        }
        if !oidc.scope.contains("openid") {
            problem("oidc.scope: must contain openid, or the provider sends no ID token; add it")
        }
        if oidc.pkceMethod != "S256", oidc.pkceMethod != "plain" {
            problem("oidc.pkce.method: \"\(oidc.pkceMethod)\" is not a PKCE method; use S256 or plain")
        }
    }

    private mutating func decodeExtraParams() -> [String: String] {
        guard let node = node(at: "oidc.extra_params") else { return [:] }
        guard case .mapping(let entries, _) = node else {
            problem(
                "oidc.extra_params: expected a mapping of name to value but found \(node.kindName) (line \(node.line))"
            )
            return [:]
        }
        var params: [String: String] = [:]
        for (name, value) in entries {
            guard case .scalar(let text, _, _) = value else {
                problem(
                    "oidc.extra_params.\(name): expected a single value but found \(value.kindName) (line \(value.line))"
                )
                continue
            }
            params[name] = text
        }
        return params
    }
}
