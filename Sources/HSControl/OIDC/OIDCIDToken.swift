import Foundation
import HSCore
import HSTLS

/// The claims of a verified ID token that the server uses.
struct OIDCIdentity: Sendable {
    var issuer: String
    var subject: String
    var email: String
    var emailVerified: Bool
    var preferredUsername: String
    var name: String
    var picture: String
    var groups: [String]
    var expiresAt: Date

    /// The user name: `preferred_username` when it is a valid name, else a usable email, else the subject.
    func userName(emailVerifiedRequired: Bool) -> String {
        if Self.isValidName(preferredUsername) { return preferredUsername }
        if Self.isValidName(email), emailVerified || !emailVerifiedRequired { return email }
        return subject
    }

    private static func isValidName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 255
            && !text.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 }
    }
}

/// Verification of a JWT ID token signed with `RS256` (OpenID Connect Core §3.1.3.7).
enum OIDCIDToken {
    /// Largest token accepted; real ID tokens are a few kilobytes.
    static let maxBytes = 64 << 10
    /// Clock skew tolerated for `exp` and `iat`.
    static let leewaySeconds = 60.0

    /// Checks the signature with the provider's key, then `iss`, `aud`, `exp` and `nonce`.
    ///
    /// - Throws: ``OIDCError`` naming the claim or step that failed.
    static func verify(_ token: String, provider: OIDCProvider, nonce: String, now: Date) throws -> OIDCIdentity {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= maxBytes, parts.count == 3,
            let headerBytes = Base64URL.decode(String(parts[0])),
            let claimBytes = Base64URL.decode(String(parts[1])),
            let signature = Base64URL.decode(String(parts[2])),
            let header = try? JSONDecoder().decode(JSONValue.self, from: Data(headerBytes)),
            let claims = try? JSONDecoder().decode(JSONValue.self, from: Data(claimBytes))
        else {
            throw OIDCError("the provider's ID token is not a well-formed JWT")
        }
        guard header["alg"]?.stringValue == "RS256" else {
            throw OIDCError(
                "the ID token is signed with \(header["alg"]?.stringValue ?? "no algorithm"); only RS256 is accepted"
            )
        }
        let key = try provider.key(id: header["kid"]?.stringValue)
        let signed = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard RS256.verify(signature: signature, message: signed, modulus: key.modulus, exponent: key.exponent) else {
            throw OIDCError("the ID token's signature does not verify with the provider's key")
        }
        try checkClaims(claims, settings: provider.settings, nonce: nonce, now: now)
        return identity(claims)
    }

    private static func checkClaims(_ claims: JSONValue, settings: OIDCSettings, nonce: String, now: Date) throws {
        guard let issuer = claims["iss"]?.stringValue, OIDCProvider.sameIssuer(issuer, settings.issuer) else {
            throw OIDCError("the ID token's issuer \"\(claims["iss"]?.stringValue ?? "")\" is not \(settings.issuer)")
        }
        let audiences =
            claims["aud"]?.arrayValue?.compactMap(\.stringValue) ?? [claims["aud"]?.stringValue].compactMap { $0 }
        guard audiences.contains(settings.clientID) else {
            throw OIDCError("the ID token is for audience \(audiences), not this server's client ID")
        }
        guard let expiry = claims["exp"]?.integerValue, Double(expiry) + leewaySeconds > now.timeIntervalSince1970
        else {
            throw OIDCError("the ID token has expired or carries no exp claim; log in again")
        }
        guard claims["nonce"]?.stringValue == nonce else {
            throw OIDCError("the ID token's nonce does not match this login; start the login again")
        }
    }

    private static func identity(_ claims: JSONValue) -> OIDCIdentity {
        let verified: Bool
        switch claims["email_verified"] {
        case .bool(let value): verified = value
        case .string(let text): verified = text == "true"
        default: verified = false
        }
        return OIDCIdentity(
            issuer: claims["iss"]?.stringValue ?? "",
            subject: claims["sub"]?.stringValue ?? "",
            email: claims["email"]?.stringValue ?? "",
            emailVerified: verified,
            preferredUsername: claims["preferred_username"]?.stringValue ?? "",
            name: claims["name"]?.stringValue ?? "",
            picture: claims["picture"]?.stringValue ?? "",
            groups: claims["groups"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            expiresAt: Date(timeIntervalSince1970: Double(claims["exp"]?.integerValue ?? 0))
        )
    }
}

/// The `oidc.allowed_*` filters. Every configured filter must pass.
enum OIDCAccess {
    /// - Throws: ``OIDCError`` saying which filter rejected the user.
    static func check(_ identity: OIDCIdentity, settings: OIDCSettings) throws {
        let usesEmail = !settings.allowedDomains.isEmpty || !settings.allowedUsers.isEmpty
        if usesEmail, settings.emailVerifiedRequired, !identity.emailVerified {
            throw OIDCError("the provider has not verified the email \(identity.email); this server requires it")
        }
        if !settings.allowedDomains.isEmpty {
            let domain = identity.email.split(separator: "@").last.map { $0.lowercased() } ?? ""
            guard identity.email.contains("@"), settings.allowedDomains.contains(domain) else {
                throw OIDCError("the email domain of \(identity.email) is not in oidc.allowed_domains")
            }
        }
        if !settings.allowedUsers.isEmpty, !settings.allowedUsers.contains(identity.email) {
            throw OIDCError("\(identity.email) is not in oidc.allowed_users")
        }
        if !settings.allowedGroups.isEmpty, Set(settings.allowedGroups).isDisjoint(with: identity.groups) {
            throw OIDCError("the user is in none of oidc.allowed_groups")
        }
    }
}
