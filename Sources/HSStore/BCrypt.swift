/// bcrypt password hashing (Provos and Mazières, 1999) as Go's `golang.org/x/crypto/bcrypt` produces it,
/// which is how Headscale hashes pre-auth and API key secrets.
///
/// Hash text layout: `$2a$`, the two-digit cost, `$`, 22 characters of salt and 31 characters of hash, both in
/// bcrypt's own base64 alphabet (`./A-Za-z0-9`, no padding). The password gets a trailing NUL byte and is cut to
/// 72 bytes, as in the `2a`/`2b` variants. Verification accepts `2a`, `2b` and `2y` hashes.
enum BCrypt {
    /// Go's `bcrypt.DefaultCost`: 2^10 key-schedule rounds.
    static let defaultCost = 10
    static let minimumCost = 4
    static let maximumCost = 31
    /// Longest password Go's bcrypt accepts; our secrets are 64 bytes.
    static let maximumPasswordLength = 72

    /// Hashes `password` with a fresh random 16-byte salt; `cost` must be in 4...31.
    static func hash(password: [UInt8], cost: Int = defaultCost) -> String {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return hash(password: password, salt: salt, cost: cost)
    }

    /// Hashes `password` with the given 16-byte `salt`.
    static func hash(password: [UInt8], salt: [UInt8], cost: Int) -> String {
        precondition(salt.count == 16 && (minimumCost...maximumCost).contains(cost), "invalid bcrypt salt or cost")
        let digest = rawHash(password: password, salt: salt, cost: cost)
        let costText = cost < 10 ? "0\(cost)" : "\(cost)"
        return "$2a$\(costText)$" + encode(salt) + encode(Array(digest.prefix(23)))
    }

    /// Checks `password` against a stored hash in constant time; a malformed hash never matches.
    static func verify(password: [UInt8], hash: String) -> Bool {
        let text = Array(hash.utf8)
        guard text.count == 60, text[0] == UInt8(ascii: "$"), text[1] == UInt8(ascii: "2"),
            [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(text[2]),
            text[3] == UInt8(ascii: "$"), text[6] == UInt8(ascii: "$"),
            let cost = Int(String(decoding: text[4..<6], as: UTF8.self)),
            (minimumCost...maximumCost).contains(cost),
            let salt = decode(text[7..<29], count: 16),
            let expected = decode(text[29..<60], count: 23)
        else { return false }
        let actual = rawHash(password: password, salt: salt, cost: cost).prefix(23)
        var difference: UInt8 = 0
        for (left, right) in zip(actual, expected) {
            difference |= left ^ right
        }
        return difference == 0
    }

    /// Runs EksBlowfishSetup and encrypts "OrpheanBeholderScryDoubt" 64 times; returns the 24 output bytes.
    private static func rawHash(password: [UInt8], salt: [UInt8], cost: Int) -> [UInt8] {
        let key = Array((password + [0]).prefix(maximumPasswordLength))
        var cipher = Blowfish()
        cipher.expand(key: key, salt: salt)
        for _ in 0..<(1 << cost) {
            cipher.expand(key: key, salt: nil)
            cipher.expand(key: salt, salt: nil)
        }
        var words = Blowfish.words(of: Array("OrpheanBeholderScryDoubt".utf8))
        for _ in 0..<64 {
            for pair in stride(from: 0, to: words.count, by: 2) {
                (words[pair], words[pair + 1]) = cipher.encrypt(words[pair], words[pair + 1])
            }
        }
        return words.flatMap { [UInt8($0 >> 24), UInt8(($0 >> 16) & 0xff), UInt8(($0 >> 8) & 0xff), UInt8($0 & 0xff)] }
    }

    private static let alphabet = Array("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// Encodes bytes in bcrypt's base64 alphabet without padding: 16 bytes → 22 characters, 23 → 31.
    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                out.append(alphabet[Int((buffer >> UInt32(bits)) & 0x3f)])
            }
        }
        if bits > 0 {
            out.append(alphabet[Int((buffer << UInt32(6 - bits)) & 0x3f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes bcrypt base64 text into exactly `count` bytes; returns nil on a character outside the alphabet.
    static func decode(_ text: some Collection<UInt8>, count: Int) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for char in text {
            guard let value = alphabet.firstIndex(of: char) else { return nil }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> UInt32(bits)) & 0xff))
            }
        }
        return out.count >= count ? Array(out.prefix(count)) : nil
    }
}
