import Foundation
import HSCore
import Synchronization

/// A failure in the OpenID Connect exchange, with the step and the provider's response.
struct OIDCError: Error, CustomStringConvertible, Sendable {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The provider's endpoints from discovery, its signing keys, and the code exchange.
///
/// Blocking: call from a background queue. The key set is cached behind a `Mutex` and fetched
/// again when a token names a key it does not hold, at most once every 10 seconds.
final class OIDCProvider: Sendable {
    let settings: OIDCSettings
    let authorizationEndpoint: String
    let tokenEndpoint: String
    let jwksURI: String
    let fetcher: HTTPFetcher
    private let keys = Mutex<(byID: [String: RSAPublicJWK], fetchedAt: ContinuousClock.Instant?)>(([:], nil))

    /// Reads `<issuer>/.well-known/openid-configuration`.
    ///
    /// - Throws: ``OIDCError`` naming the URL when the document is missing, malformed, or names
    ///   another issuer.
    init(settings: OIDCSettings) throws {
        self.settings = settings
        var fetcher = HTTPFetcher()
        fetcher.trustedCertificatesPath = settings.trustedCertificatesPath
        self.fetcher = fetcher
        let url = settings.issuer + "/.well-known/openid-configuration"
        let document = try Self.json(try fetcher.request("GET", url: url), from: url)
        guard let issuer = document["issuer"]?.stringValue, Self.sameIssuer(issuer, settings.issuer) else {
            throw OIDCError(
                "the OpenID configuration at \(url) names issuer \"\(document["issuer"]?.stringValue ?? "")\"; "
                    + "set oidc.issuer to exactly that URL"
            )
        }
        guard let authorization = document["authorization_endpoint"]?.stringValue,
            let token = document["token_endpoint"]?.stringValue,
            let jwks = document["jwks_uri"]?.stringValue
        else {
            throw OIDCError(
                "the OpenID configuration at \(url) lacks authorization_endpoint, token_endpoint or jwks_uri"
            )
        }
        authorizationEndpoint = authorization
        tokenEndpoint = token
        jwksURI = jwks
    }

    /// Exchanges an authorization code for the token response's JSON.
    func exchange(code: String, redirectURI: String, codeVerifier: String?) throws -> JSONValue {
        var form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI)]
        if let codeVerifier { form.append(("code_verifier", codeVerifier)) }
        let credentials = Data(
            "\(FormEncoding.escape(settings.clientID)):\(FormEncoding.escape(settings.clientSecret))".utf8
        )
        let response = try fetcher.request(
            "POST",
            url: tokenEndpoint,
            headers: [
                ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"),
                ("Authorization", "Basic " + credentials.base64EncodedString()),
            ],
            body: Array(FormEncoding.encode(form).utf8)
        )
        return try Self.json(response, from: tokenEndpoint)
    }

    /// Returns the signing key named `kid` (or the only key when the token names none).
    func key(id: String?) throws -> RSAPublicJWK {
        if let key = cachedKey(id) { return key }
        let mayFetch = keys.withLock { state in
            state.fetchedAt.map { ContinuousClock.now - $0 > .seconds(10) } ?? true
        }
        if mayFetch {
            let fetched = try fetchKeys()
            keys.withLock { $0 = (fetched, ContinuousClock.now) }
        }
        guard let key = cachedKey(id) else {
            throw OIDCError("the ID token names signing key \"\(id ?? "")\", which \(jwksURI) does not list")
        }
        return key
    }

    private func cachedKey(_ id: String?) -> RSAPublicJWK? {
        keys.withLock { state in
            if let id { return state.byID[id] }
            return state.byID.count == 1 ? state.byID.values.first : nil
        }
    }

    private func fetchKeys() throws -> [String: RSAPublicJWK] {
        let set = try Self.json(try fetcher.request("GET", url: jwksURI), from: jwksURI)
        var result: [String: RSAPublicJWK] = [:]
        for (index, entry) in (set["keys"]?.arrayValue ?? []).enumerated() {
            guard let key = RSAPublicJWK(entry) else { continue }
            result[entry["kid"]?.stringValue ?? "#\(index)"] = key
        }
        return result
    }

    static func sameIssuer(_ a: String, _ b: String) -> Bool {
        a.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            == b.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
    }

    static func json(_ response: FetchedResponse, from url: String) throws -> JSONValue {
        let value = try? JSONDecoder().decode(JSONValue.self, from: Data(response.body))
        guard response.status == 200, let value else {
            let detail = value?["error_description"]?.stringValue ?? value?["error"]?.stringValue ?? "no JSON body"
            throw OIDCError("the OpenID provider responded to \(url) with status \(response.status): \(detail)")
        }
        return value
    }
}

/// An RSA public key from a JSON Web Key Set entry (`kty` `RSA`).
struct RSAPublicJWK: Sendable {
    let modulus: [UInt8]
    let exponent: [UInt8]

    init?(_ entry: JSONValue) {
        guard entry["kty"]?.stringValue == "RSA", entry["use"]?.stringValue ?? "sig" == "sig",
            let n = entry["n"]?.stringValue.flatMap(Base64URL.decode),
            let e = entry["e"]?.stringValue.flatMap(Base64URL.decode)
        else { return nil }
        modulus = Array(n.drop { $0 == 0 })
        exponent = e
    }
}

/// `application/x-www-form-urlencoded` text.
enum FormEncoding {
    static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&")
    }

    /// Parses a form body; a malformed escape leaves the raw text.
    static func decode(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                let plus = $0.replacingOccurrences(of: "+", with: " ")
                return plus.removingPercentEncoding ?? plus
            }
            result[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return result
    }
}
