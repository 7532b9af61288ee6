import Foundation

/// The id of one pending interactive login: `hskey-authreq-` and 24 characters of the URL-safe
/// base64 alphabet (`A-Z a-z 0-9 - _`), 38 characters in all, as Headscale 0.29 issues them.
///
/// The id appears in the `AuthURL` (`<server_url>/register/<id>`) and in the admin's
/// `headscale auth register --auth-id <id>` command.
struct AuthRequestID: Hashable, Sendable, CustomStringConvertible {
    static let prefix = "hskey-authreq-"
    static let randomLength = 24
    private static let alphabet = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".unicodeScalars
    )

    let text: String
    var description: String { text }

    /// Creates a fresh id from the system's cryptographic random source.
    static func random() -> AuthRequestID {
        var generator = SystemRandomNumberGenerator()
        var tail = String.UnicodeScalarView()
        for _ in 0..<randomLength {
            tail.append(alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))])
        }
        return AuthRequestID(text: prefix + String(tail))
    }

    /// Parses an id; nil unless it has the prefix, the length and only alphabet characters.
    init?(parsing text: String) {
        guard text.hasPrefix(Self.prefix), text.unicodeScalars.count == Self.prefix.count + Self.randomLength else {
            return nil
        }
        let tail = text.unicodeScalars.dropFirst(Self.prefix.count)
        guard tail.allSatisfy(Self.alphabet.contains) else { return nil }
        self.text = text
    }

    /// The id at the end of a follow-up URL's `/register/<id>` path, or nil when it has none.
    init?(followupURL: String) {
        guard let range = followupURL.range(of: "/register/", options: .backwards) else { return nil }
        var tail = followupURL[range.upperBound...]
        if let end = tail.firstIndex(where: { $0 == "?" || $0 == "#" || $0 == "/" }) {
            tail = tail[..<end]
        }
        self.init(parsing: String(tail))
    }

    private init(text: String) {
        self.text = text
    }
}
