import Foundation
import HSConfig
import HSControl

extension ServerOptions {
    /// Maps `oidc.*`; the secret comes from `client_secret` or the file at `client_secret_path`
    /// (trailing whitespace removed). nil when OIDC is off.
    static func oidcSettings(_ oidc: Config.OIDC) -> OIDCSettings? {
        guard oidc.isEnabled else { return nil }
        var secret = oidc.clientSecret
        if let path = oidc.clientSecretPath {
            secret =
                (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        }
        var settings = OIDCSettings(issuer: oidc.issuer, clientID: oidc.clientID, clientSecret: secret)
        settings.scope = oidc.scope
        settings.extraParams = oidc.extraParams.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        settings.allowedDomains = oidc.allowedDomains
        settings.allowedUsers = oidc.allowedUsers
        settings.allowedGroups = oidc.allowedGroups
        settings.emailVerifiedRequired = oidc.emailVerifiedRequired
        settings.pkceEnabled = oidc.pkceEnabled
        settings.pkceMethod = oidc.pkceMethod
        settings.useExpiryFromToken = oidc.useExpiryFromToken
        settings.onlyStartIfAvailable = oidc.onlyStartIfAvailable
        return settings
    }
}
