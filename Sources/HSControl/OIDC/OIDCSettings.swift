/// The settings for logins through an OpenID Connect provider: the `oidc.*` keys.
public struct OIDCSettings: Sendable {
    public var issuer: String
    public var clientID: String
    /// Never logged.
    public var clientSecret: String
    public var scope: [String] = ["openid", "profile", "email"]
    /// Extra query parameters for the authorization request, in this order.
    public var extraParams: [(String, String)] = []
    /// Lower-case email domains; empty allows every domain.
    public var allowedDomains: [String] = []
    /// Email addresses; empty allows every user.
    public var allowedUsers: [String] = []
    /// Values of the `groups` claim; empty allows every group.
    public var allowedGroups: [String] = []
    public var emailVerifiedRequired = true
    public var pkceEnabled = false
    /// `S256` or `plain`.
    public var pkceMethod = "S256"
    public var useExpiryFromToken = false
    /// Whether a failed discovery stops the start; otherwise logins fall back to `auth register`.
    public var onlyStartIfAvailable = true
    /// A PEM file of CAs the provider's HTTPS certificate must chain to; nil uses the system roots.
    public var trustedCertificatesPath: String?

    public init(issuer: String, clientID: String, clientSecret: String) {
        self.issuer = issuer
        self.clientID = clientID
        self.clientSecret = clientSecret
    }
}
