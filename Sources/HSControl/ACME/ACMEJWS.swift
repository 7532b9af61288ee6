import Foundation
import HSCore
import HSCrypto
import HSTLS

/// JSON Web Signature in the flattened JSON form ACME (RFC 8555 §6.2) requires, signed with ES256.
struct ACMEJWS: Sendable {
    let key: P256SigningKey

    /// The account key as a JSON Web Key, members in the lexicographic order that RFC 7638
    /// thumbprints hash.
    var jwk: JSONValue {
        let point = key.publicPoint()
        return .object([
            ("crv", .string("P-256")),
            ("kty", .string("EC")),
            ("x", .string(Base64URL.encode(Array(point[1..<33])))),
            ("y", .string(Base64URL.encode(Array(point[33..<65])))),
        ])
    }

    /// The RFC 7638 thumbprint of ``jwk``, base64url: the second half of every key authorization.
    var thumbprint: String { Base64URL.encode(SHA256.hash(jwk.encoded())) }

    /// The key authorization for a challenge token: `token.thumbprint`.
    func keyAuthorization(token: String) -> String { token + "." + thumbprint }

    /// Signs `payload` for `url`. Before the account exists, `accountURL` is nil and the header
    /// carries the key itself (`jwk`); afterwards it names the account (`kid`). A nil payload is a
    /// POST-as-GET, whose payload is the empty string.
    func sign(payload: JSONValue?, url: String, nonce: String, accountURL: String?) throws -> [UInt8] {
        var header: [(String, JSONValue)] = [("alg", .string("ES256"))]
        if let accountURL {
            header.append(("kid", .string(accountURL)))
        } else {
            header.append(("jwk", jwk))
        }
        header += [("nonce", .string(nonce)), ("url", .string(url))]
        let protected = Base64URL.encode(JSONValue.object(header).encoded())
        let body = payload.map { Base64URL.encode($0.encoded()) } ?? ""
        let signature = try key.signES256(Array("\(protected).\(body)".utf8))
        return JSONValue.object([
            ("protected", .string(protected)),
            ("payload", .string(body)),
            ("signature", .string(Base64URL.encode(signature))),
        ]).encoded()
    }
}

/// Base64 with the URL-safe alphabet and no padding (RFC 4648 §5), as JOSE uses it.
enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes base64url with or without padding; nil for other characters.
    static func decode(_ text: String) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard).map(Array.init)
    }
}
