import Foundation
import HSCore

/// `tailcfg.RegisterRequest`, the body of `POST /machine/register`, with the fields this server reads.
struct RegisterRequest: Decodable, Sendable {
    struct Auth: Decodable, Sendable {
        var authKey: String?

        enum CodingKeys: String, CodingKey {
            case authKey = "AuthKey"
        }
    }

    var version: Int
    var nodeKey: NodePublicKey
    var oldNodeKey: NodePublicKey
    var auth: Auth?
    /// Requested key expiry; Go's zero time when absent. A past value means logout.
    var expiry: Date?
    var followup: String
    var hostinfo: JSONValue?
    var ephemeral: Bool

    enum CodingKeys: String, CodingKey {
        case version = "Version"
        case nodeKey = "NodeKey"
        case oldNodeKey = "OldNodeKey"
        case auth = "Auth"
        case expiry = "Expiry"
        case followup = "Followup"
        case hostinfo = "Hostinfo"
        case ephemeral = "Ephemeral"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decodeIfPresent(Int.self, forKey: .version) ?? 0
        nodeKey = try container.decodeIfPresent(NodePublicKey.self, forKey: .nodeKey) ?? .zero
        oldNodeKey = try container.decodeIfPresent(NodePublicKey.self, forKey: .oldNodeKey) ?? .zero
        auth = try container.decodeIfPresent(Auth.self, forKey: .auth)
        expiry = try container.decodeIfPresent(String.self, forKey: .expiry).flatMap(WireTime.parse)
        followup = try container.decodeIfPresent(String.self, forKey: .followup) ?? ""
        hostinfo = try container.decodeIfPresent(JSONValue.self, forKey: .hostinfo)
        ephemeral = try container.decodeIfPresent(Bool.self, forKey: .ephemeral) ?? false
    }
}

/// `tailcfg.MapRequest`, the body of `POST /machine/map`, with the fields this server reads.
struct MapRequest: Decodable, Sendable {
    var version: Int
    var compress: String
    var keepAlive: Bool
    var nodeKey: NodePublicKey
    var discoKey: DiscoPublicKey
    var stream: Bool
    var omitPeers: Bool
    var hostinfo: JSONValue?
    var endpoints: [String]?

    enum CodingKeys: String, CodingKey {
        case version = "Version"
        case compress = "Compress"
        case keepAlive = "KeepAlive"
        case nodeKey = "NodeKey"
        case discoKey = "DiscoKey"
        case stream = "Stream"
        case omitPeers = "OmitPeers"
        case hostinfo = "Hostinfo"
        case endpoints = "Endpoints"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decodeIfPresent(Int.self, forKey: .version) ?? 0
        compress = try container.decodeIfPresent(String.self, forKey: .compress) ?? ""
        keepAlive = try container.decodeIfPresent(Bool.self, forKey: .keepAlive) ?? false
        nodeKey = try container.decodeIfPresent(NodePublicKey.self, forKey: .nodeKey) ?? .zero
        discoKey = try container.decodeIfPresent(DiscoPublicKey.self, forKey: .discoKey) ?? .zero
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        omitPeers = try container.decodeIfPresent(Bool.self, forKey: .omitPeers) ?? false
        hostinfo = try container.decodeIfPresent(JSONValue.self, forKey: .hostinfo)
        endpoints = try container.decodeIfPresent([String].self, forKey: .endpoints)
    }
}

/// Times on the control wire: RFC 3339, with Go's zero time meaning "none".
enum WireTime {
    /// Parses a wire time; Go's zero time (year 1) and unparsable text give nil.
    static func parse(_ text: String) -> Date? {
        guard let date = RFC3339.parse(text) else { return nil }
        return date.timeIntervalSince1970 < -62_000_000_000 ? nil : date
    }

    static func format(_ date: Date?) -> String {
        guard let date else { return RFC3339.zero }
        return RFC3339.format(date)
    }
}
