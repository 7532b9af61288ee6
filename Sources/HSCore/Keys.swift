/// The role of a 32-byte Curve25519 public key, which fixes its text prefix on the wire.
public protocol KeyRole: Sendable {
    /// Prefix of the key's text form, such as `nodekey:`.
    static var prefix: String { get }
}

public enum NodeKeyRole: KeyRole { public static let prefix = "nodekey:" }
public enum MachineKeyRole: KeyRole { public static let prefix = "mkey:" }
public enum DiscoKeyRole: KeyRole { public static let prefix = "discokey:" }
public enum NetworkLockKeyRole: KeyRole { public static let prefix = "nlpub:" }
public enum ChallengeKeyRole: KeyRole { public static let prefix = "chalpub:" }

/// A 32-byte public key whose text form is its role's prefix followed by 64 hex digits.
///
/// The all-zero key is valid and means "no key"; JSON `null` decodes to it.
public struct PublicKey<Role: KeyRole>: Hashable, Sendable, CustomStringConvertible, Codable {
    /// The raw key bytes, always 32 of them.
    public let bytes: [UInt8]

    public static var zero: PublicKey { PublicKey(uncheckedBytes: [UInt8](repeating: 0, count: 32)) }

    private init(uncheckedBytes: [UInt8]) {
        self.bytes = uncheckedBytes
    }

    /// Creates a key from 32 raw bytes; returns nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// Parses the text form. Upper-case hex is accepted, a missing or wrong prefix is not.
    public init?(text: some StringProtocol) {
        guard text.hasPrefix(Role.prefix) else { return nil }
        guard let raw = Hex.decode(text.dropFirst(Role.prefix.count)), raw.count == 32 else { return nil }
        self.bytes = raw
    }

    public var isZero: Bool { bytes.allSatisfy { $0 == 0 } }

    /// The text form, such as `nodekey:` and 64 lower-case hex digits.
    public var text: String { Role.prefix + Hex.encode(bytes) }

    public var description: String { text }

    /// A short form for logs: the prefix and the first 8 hex digits.
    public var shortDescription: String { Role.prefix + "[" + String(Hex.encode(bytes).prefix(8)) + "]" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .zero
            return
        }
        let text = try container.decode(String.self)
        guard let key = PublicKey(text: text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "invalid key \"\(text.prefix(80))\": expected \(Role.prefix) and 64 hex digits"
            )
        }
        self = key
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

public typealias NodePublicKey = PublicKey<NodeKeyRole>
public typealias MachinePublicKey = PublicKey<MachineKeyRole>
public typealias DiscoPublicKey = PublicKey<DiscoKeyRole>
public typealias NetworkLockPublicKey = PublicKey<NetworkLockKeyRole>
public typealias ChallengePublicKey = PublicKey<ChallengeKeyRole>
