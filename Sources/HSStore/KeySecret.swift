/// Headscale's key text formats: `hskey-auth-<prefix>-<secret>` for pre-auth keys and `hskey-api-<prefix>-<secret>`
/// for API keys, where the prefix is 12 and the secret 64 characters of the URL-safe base64 alphabet
/// (`A-Z a-z 0-9 - _`).
///
/// Because `-` is in the alphabet, the parts are split by position, not at the dashes.
enum KeySecret {
    static let prefixLength = 12
    static let secretLength = 64
    static let preAuthTag = "hskey-auth-"
    static let apiTag = "hskey-api-"

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Returns `count` random characters of the URL-safe base64 alphabet from the system CSPRNG.
    ///
    /// Each character takes 6 bits of one random byte; 256 is a multiple of 64, so every character is uniform.
    static func randomString(count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<count).map { _ in alphabet[Int(UInt8.random(in: .min ... .max, using: &generator) & 63)] }
        return String(decoding: characters, as: UTF8.self)
    }

    /// Splits `text` after `tag` into its prefix and secret; returns nil when the layout or alphabet is wrong.
    static func split(_ text: String, tag: String) -> (prefix: String, secret: String)? {
        guard text.hasPrefix(tag) else { return nil }
        let rest = Array(text.utf8.dropFirst(tag.utf8.count))
        guard rest.count == prefixLength + 1 + secretLength, rest[prefixLength] == UInt8(ascii: "-") else { return nil }
        let prefix = rest[..<prefixLength]
        let secret = rest[(prefixLength + 1)...]
        guard prefix.allSatisfy(alphabet.contains), secret.allSatisfy(alphabet.contains) else { return nil }
        return (String(decoding: prefix, as: UTF8.self), String(decoding: secret, as: UTF8.self))
    }
}
