import Foundation
import HSCore
import HSCrypto

/// The JSON a client seals into its ClientInfo frame. Unknown fields are ignored and missing ones
/// take their zero value, as Go's decoder does.
public struct DERPClientInfo: Codable, Sendable, Equatable {
    /// The client's DERP protocol version; Tailscale v1.90 sends 2.
    public var version: Int
    /// True when the client replies to server Pings with Pong.
    public var canAckPings: Bool
    /// 64 hex digits of the regional mesh key, sent only by trusted mesh peers.
    public var meshKey: String?
    /// True for Tailscale's monitoring prober.
    public var isProber: Bool

    enum CodingKeys: String, CodingKey {
        case version
        case canAckPings = "CanAckPings"
        case meshKey
        case isProber = "IsProber"
    }

    public init(
        version: Int = DERP.protocolVersion,
        canAckPings: Bool = true,
        meshKey: String? = nil,
        isProber: Bool = false
    ) {
        self.version = version
        self.canAckPings = canAckPings
        self.meshKey = meshKey
        self.isProber = isProber
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decodeIfPresent(Int.self, forKey: .version) ?? 0
        canAckPings = try container.decodeIfPresent(Bool.self, forKey: .canAckPings) ?? false
        meshKey = try container.decodeIfPresent(String.self, forKey: .meshKey)
        isProber = try container.decodeIfPresent(Bool.self, forKey: .isProber) ?? false
    }
}

/// The JSON the server seals into its ServerInfo frame: `{"version":2}`. The optional token-bucket
/// fields, which would make clients rate-limit their sends, are never set by this server.
public struct DERPServerInfo: Codable, Sendable, Equatable {
    public var version: Int

    public init(version: Int = DERP.protocolVersion) {
        self.version = version
    }
}

/// The server side of the DERP handshake, without I/O.
///
/// The server sends ServerKey at once. The client replies with ClientInfo: its key, a random nonce
/// and a NaCl box sealed with its private key to the server's public key. The server opens it and
/// replies with ServerInfo, a fresh nonce and a box sealed to the client's key.
public enum DERPHandshake {
    /// Opens a ClientInfo payload.
    ///
    /// Payload layout: bytes 0–31 client public key, 32–55 nonce, 56… NaCl box of the JSON.
    /// - Throws: ``DERPError`` (`malformedFrame` when too short, `handshakeFailed` when the box does
    ///   not open or its contents are not ClientInfo JSON).
    public static func openClientInfo(
        _ payload: [UInt8],
        serverPrivateKey: [UInt8]
    ) throws(DERPError) -> (clientKey: NodePublicKey, info: DERPClientInfo) {
        let minimum = DERP.keyLength + DERP.nonceLength + NaClBox.overheadLength
        guard payload.count >= minimum else {
            throw DERPError(
                .malformedFrame,
                "ClientInfo of \(payload.count) bytes is shorter than the minimum \(minimum)"
            )
        }
        let clientKey = NodePublicKey(bytes: Array(payload[0..<DERP.keyLength]))!
        let nonce = Array(payload[DERP.keyLength..<DERP.keyLength + DERP.nonceLength])
        let box = Array(payload[(DERP.keyLength + DERP.nonceLength)...])

        let json: [UInt8]
        do {
            json = try NaClBox.open(
                box,
                nonce: nonce,
                senderPublicKey: clientKey.bytes,
                recipientPrivateKey: serverPrivateKey
            )
        } catch {
            throw DERPError(.handshakeFailed, "ClientInfo from \(clientKey.shortDescription) does not open: \(error)")
        }
        do {
            let info = try JSONDecoder().decode(DERPClientInfo.self, from: Data(json))
            return (clientKey, info)
        } catch {
            throw DERPError(
                .handshakeFailed,
                "ClientInfo from \(clientKey.shortDescription) is not valid JSON: \(error)"
            )
        }
    }

    /// Builds the ServerInfo frame for `clientKey`: a random nonce, then the sealed JSON.
    ///
    /// - Throws: ``DERPError`` `handshakeFailed` when libsodium rejects the client key.
    public static func serverInfoFrame(
        _ info: DERPServerInfo = DERPServerInfo(),
        serverPrivateKey: [UInt8],
        clientKey: NodePublicKey
    ) throws(DERPError) -> DERPFrame {
        // JSONEncoder fails only on non-finite floats and invalid keys, and this struct has one Int.
        let json = try! JSONEncoder().encode(info)
        let nonce = NaClBox.randomBytes(DERP.nonceLength)
        do {
            let box = try NaClBox.seal(
                Array(json),
                nonce: nonce,
                recipientPublicKey: clientKey.bytes,
                senderPrivateKey: serverPrivateKey
            )
            return DERPFrame(type: .serverInfo, payload: nonce + box)
        } catch {
            throw DERPError(.handshakeFailed, "cannot seal ServerInfo to \(clientKey.shortDescription): \(error)")
        }
    }
}
