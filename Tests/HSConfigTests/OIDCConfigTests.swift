import Testing

@testable import HSConfig

/// The `oidc.*` keys.
@Suite struct OIDCConfigTests {
    @Test func absentIssuerLeavesOIDCOff() throws {
        let oidc = try decode(minimalYAML).config.oidc
        #expect(!oidc.isEnabled)
        #expect(oidc.scope == ["openid", "profile", "email"])
        #expect(oidc.emailVerifiedRequired)
        #expect(oidc.onlyStartIfAvailable)
    }

    @Test func keysAreRead() throws {
        let yaml =
            minimalYAML + """

                oidc:
                  issuer: https://sso.example.com/
                  client_id: headscale
                  client_secret_path: secrets/oidc
                  scope: [openid, email, groups]
                  extra_params:
                    domain_hint: example.com
                  allowed_domains: [Example.com]
                  allowed_users: [alice@example.com]
                  allowed_groups: [admins]
                  email_verified_required: false
                  pkce:
                    enabled: true
                    method: plain
                  use_expiry_from_token: true
                  only_start_if_oidc_is_available: false
                """
        let loaded = try decode(yaml)
        let oidc = loaded.config.oidc
        #expect(oidc.isEnabled)
        #expect(oidc.issuer == "https://sso.example.com")
        #expect(oidc.clientID == "headscale")
        #expect(oidc.clientSecretPath?.hasSuffix("/secrets/oidc") == true)
        #expect(oidc.scope == ["openid", "email", "groups"])
        #expect(oidc.extraParams == ["domain_hint": "example.com"])
        #expect(oidc.allowedDomains == ["example.com"])
        #expect(oidc.allowedUsers == ["alice@example.com"])
        #expect(oidc.allowedGroups == ["admins"])
        #expect(!oidc.emailVerifiedRequired)
        #expect(oidc.pkceEnabled)
        #expect(oidc.pkceMethod == "plain")
        #expect(oidc.useExpiryFromToken)
        #expect(!oidc.onlyStartIfAvailable)
        #expect(!loaded.warnings.contains { $0.hasPrefix("oidc") }, "\(loaded.warnings)")
    }

    @Test func badValuesAreReported() {
        let found = problems(
            minimalYAML + """

                oidc:
                  issuer: https://sso.example.com
                  client_secret: inline
                  client_secret_path: /run/secret
                  scope: [email]
                  pkce:
                    method: S512
                """
        )
        #expect(found.contains { $0.hasPrefix("oidc.client_id: missing") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("oidc.client_secret and oidc.client_secret_path") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("oidc.scope: must contain openid") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("oidc.pkce.method: \"S512\"") }, "\(found)")
    }

    @Test func removedKeysStillFail() {
        let found = problems(minimalYAML + "\noidc:\n  expiry: 180d\n  strip_email_domain: true\n")
        #expect(found.contains { $0.hasPrefix("oidc.expiry: was removed") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("oidc.strip_email_domain: was removed") }, "\(found)")
    }
}
