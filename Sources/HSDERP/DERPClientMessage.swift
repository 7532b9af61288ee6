import HSCore

/// A frame a client sends after the handshake, validated and decoded.
public enum DERPClientMessage: Sendable, Equatable {
    /// Relay `packet` to the client with key `destination`.
    case sendPacket(destination: NodePublicKey, packet: [UInt8])
    /// The client does (true) or does not (false) use this server as its home DERP.
    case notePreferred(Bool)
    /// Reply with a Pong carrying these 8 bytes.
    case ping([UInt8])
    /// WatchConns, which only a mesh peer may send: report every client's arrival and departure.
    case watchConns
    /// ClosePeer, which only a mesh peer may send: close the connection of this key.
    case closePeer(NodePublicKey)
    /// ForwardPacket, which only a mesh peer may send: deliver `packet` from the peer's client
    /// `source` to this relay's client `destination`.
    case forwardPacket(source: NodePublicKey, destination: NodePublicKey, packet: [UInt8])
    /// A frame the server ignores, such as Pong or a type from a newer protocol.
    case ignored(DERPFrameType)

    /// Decodes `frame`.
    ///
    /// - Throws: ``DERPError`` `malformedFrame` when a known type has an impossible length:
    ///   SendPacket shorter than a key or carrying more than ``DERP/maxPacketLength`` bytes,
    ///   NotePreferred not exactly 1 byte, Ping shorter than 8 or longer than 1000 bytes, ClosePeer
    ///   not exactly a key, ForwardPacket shorter than two keys or carrying too many bytes.
    public static func decode(_ frame: DERPFrame) throws(DERPError) -> DERPClientMessage {
        let payload = frame.payload
        switch frame.type {
        case .sendPacket:
            try checkSendPacketLength(payload.count)
            let destination = NodePublicKey(bytes: Array(payload[0..<DERP.keyLength]))!
            return .sendPacket(destination: destination, packet: Array(payload[DERP.keyLength...]))
        case .notePreferred:
            guard payload.count == 1 else {
                throw DERPError(.malformedFrame, "NotePreferred has \(payload.count) bytes; it must have exactly 1")
            }
            return .notePreferred(payload[0] != 0)
        case .ping:
            // Newer clients may append bytes; only the first 8 are echoed.
            guard payload.count >= DERP.pingLength, payload.count <= 1000 else {
                throw DERPError(.malformedFrame, "Ping has \(payload.count) bytes; it must have 8 to 1000")
            }
            return .ping(Array(payload[0..<DERP.pingLength]))
        case .watchConns:
            return .watchConns
        case .closePeer:
            guard payload.count == DERP.keyLength else {
                throw DERPError(.malformedFrame, "ClosePeer has \(payload.count) bytes; it must have exactly 32")
            }
            return .closePeer(NodePublicKey(bytes: payload)!)
        case .forwardPacket:
            return try decodeForwardPacket(payload)
        default:
            return .ignored(frame.type)
        }
    }

    /// Decodes a ForwardPacket payload: source key, destination key, then the packet.
    private static func decodeForwardPacket(_ payload: [UInt8]) throws(DERPError) -> DERPClientMessage {
        guard payload.count >= 2 * DERP.keyLength else {
            throw DERPError(.malformedFrame, "ForwardPacket of \(payload.count) bytes is shorter than two keys")
        }
        let packetLength = payload.count - 2 * DERP.keyLength
        guard packetLength <= DERP.maxPacketLength else {
            throw DERPError(
                .malformedFrame,
                "ForwardPacket carries \(packetLength) bytes, more than the limit of \(DERP.maxPacketLength)"
            )
        }
        return .forwardPacket(
            source: NodePublicKey(bytes: Array(payload[0..<DERP.keyLength]))!,
            destination: NodePublicKey(bytes: Array(payload[DERP.keyLength..<2 * DERP.keyLength]))!,
            packet: Array(payload[(2 * DERP.keyLength)...])
        )
    }

    /// Checks a SendPacket payload length: a destination key, then at most ``DERP/maxPacketLength``
    /// packet bytes.
    ///
    /// - Throws: ``DERPError`` `malformedFrame` naming the length and the limit it breaks.
    static func checkSendPacketLength(_ payloadLength: Int) throws(DERPError) {
        guard payloadLength >= DERP.keyLength else {
            throw DERPError(.malformedFrame, "SendPacket of \(payloadLength) bytes is shorter than a key")
        }
        let packetLength = payloadLength - DERP.keyLength
        guard packetLength <= DERP.maxPacketLength else {
            throw DERPError(
                .malformedFrame,
                "SendPacket carries \(packetLength) bytes, more than the limit of \(DERP.maxPacketLength)"
            )
        }
    }
}
