import HSCore

/// Constants of Tailscale's DERP protocol, version 2.
public enum DERP {
    /// The 8 bytes that open a ServerKey frame: UTF-8 of `DERP🔑`.
    public static let magic: [UInt8] = [0x44, 0x45, 0x52, 0x50, 0xF0, 0x9F, 0x94, 0x91]
    /// The protocol version this server speaks; in version 2 RecvPacket carries the source key.
    public static let protocolVersion = 2
    /// Length of a raw Curve25519 node key on the wire.
    public static let keyLength = 32
    /// Length of the NaCl box nonce that prefixes ClientInfo and ServerInfo boxes.
    public static let nonceLength = 24
    /// Largest relayed packet, not counting the 32-byte key in front of it.
    public static let maxPacketLength = 64 << 10
    /// Largest frame payload a reader accepts by default.
    public static let maxFrameLength = 1 << 20
    /// Largest ClientInfo payload; the client is not yet authenticated when it arrives.
    public static let maxClientInfoLength = 256 << 10
    /// Length of a Ping or Pong payload.
    public static let pingLength = 8
}

/// A DERP frame type byte. Unknown values are representable so that readers can skip them.
public struct DERPFrameType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// Server to client: magic, then the server's 32-byte public key.
    public static let serverKey = DERPFrameType(rawValue: 0x01)
    /// Client to server: 32-byte client key, 24-byte nonce, NaCl box of ClientInfo JSON.
    public static let clientInfo = DERPFrameType(rawValue: 0x02)
    /// Server to client: 24-byte nonce, NaCl box of ServerInfo JSON.
    public static let serverInfo = DERPFrameType(rawValue: 0x03)
    /// Client to server: 32-byte destination key, then the packet.
    public static let sendPacket = DERPFrameType(rawValue: 0x04)
    /// Server to client: 32-byte source key, then the packet.
    public static let recvPacket = DERPFrameType(rawValue: 0x05)
    /// Server to client, empty: keeps idle connections open.
    public static let keepAlive = DERPFrameType(rawValue: 0x06)
    /// Client to server, 1 byte: 1 when this server is the client's home DERP, else 0.
    public static let notePreferred = DERPFrameType(rawValue: 0x07)
    /// Server to client: 32-byte key and 1 reason byte (``DERPPeerGoneReason``).
    public static let peerGone = DERPFrameType(rawValue: 0x08)
    /// Server to mesh watcher: key, 16-byte IP, 2-byte port, flags byte.
    public static let peerPresent = DERPFrameType(rawValue: 0x09)
    /// Mesh client to server: source key, destination key, packet.
    public static let forwardPacket = DERPFrameType(rawValue: 0x0A)
    /// Mesh client to server, empty: subscribe to PeerPresent/PeerGone for every client.
    public static let watchConns = DERPFrameType(rawValue: 0x10)
    /// Mesh client to server: 32-byte key of a client to disconnect.
    public static let closePeer = DERPFrameType(rawValue: 0x11)
    /// Either direction: 8 opaque bytes to echo in a Pong.
    public static let ping = DERPFrameType(rawValue: 0x12)
    /// Either direction: the 8 bytes of the Ping it replies to.
    public static let pong = DERPFrameType(rawValue: 0x13)
    /// Server to client: UTF-8 problem text; empty clears it.
    public static let health = DERPFrameType(rawValue: 0x14)
    /// Server to client: two big-endian UInt32 millisecond values, reconnect-in and try-for.
    public static let restarting = DERPFrameType(rawValue: 0x15)

    private static let names: [UInt8: String] = [
        0x01: "ServerKey", 0x02: "ClientInfo", 0x03: "ServerInfo", 0x04: "SendPacket", 0x05: "RecvPacket",
        0x06: "KeepAlive", 0x07: "NotePreferred", 0x08: "PeerGone", 0x09: "PeerPresent", 0x0A: "ForwardPacket",
        0x10: "WatchConns", 0x11: "ClosePeer", 0x12: "Ping", 0x13: "Pong", 0x14: "Health", 0x15: "Restarting",
    ]

    /// The frame's name, or `0x..` for an unknown type.
    public var description: String {
        Self.names[rawValue] ?? "0x" + Hex.encode([rawValue])
    }
}

/// The reason byte of a PeerGone frame, after the key.
public enum DERPPeerGoneReason: UInt8, Sendable {
    /// The peer was connected and has disconnected.
    case disconnected = 0x00
    /// The destination of a packet is not connected to this server.
    case notHere = 0x01
}

/// One DERP frame.
///
/// Wire layout: byte 0 is the type, bytes 1–4 the payload length as a big-endian UInt32, then the
/// payload. The builders below produce the payloads of the frames a server and a client send.
public struct DERPFrame: Sendable, Equatable {
    /// Bytes before the payload: type and length.
    public static let headerLength = 5

    public var type: DERPFrameType
    public var payload: [UInt8]

    public init(type: DERPFrameType, payload: [UInt8] = []) {
        self.type = type
        self.payload = payload
    }

    /// Returns the frame as it goes on the wire: header, then payload.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.headerLength + payload.count)
        bytes.append(type.rawValue)
        let length = UInt32(payload.count)
        bytes.append(contentsOf: [
            UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF),
        ])
        bytes.append(contentsOf: payload)
        return bytes
    }

    /// ServerKey: the magic, then the server's public key.
    public static func serverKey(_ key: NodePublicKey) -> DERPFrame {
        DERPFrame(type: .serverKey, payload: DERP.magic + key.bytes)
    }

    /// SendPacket: destination key, then the packet.
    public static func sendPacket(to destination: NodePublicKey, _ packet: [UInt8]) -> DERPFrame {
        DERPFrame(type: .sendPacket, payload: destination.bytes + packet)
    }

    /// RecvPacket: source key, then the packet.
    public static func recvPacket(from source: NodePublicKey, _ packet: [UInt8]) -> DERPFrame {
        DERPFrame(type: .recvPacket, payload: source.bytes + packet)
    }

    /// Encodes a RecvPacket frame (header, source key, packet) straight from a slice of a read
    /// buffer, copying the packet bytes once.
    public static func encodedRecvPacket(from source: NodePublicKey, _ packet: ArraySlice<UInt8>) -> [UInt8] {
        let payloadLength = DERP.keyLength + packet.count
        let frameLength = headerLength + payloadLength
        return [UInt8](unsafeUninitializedCapacity: frameLength) { frame, initialized in
            frame[0] = DERPFrameType.recvPacket.rawValue
            frame[1] = UInt8(truncatingIfNeeded: payloadLength >> 24)
            frame[2] = UInt8(truncatingIfNeeded: payloadLength >> 16)
            frame[3] = UInt8(truncatingIfNeeded: payloadLength >> 8)
            frame[4] = UInt8(truncatingIfNeeded: payloadLength)
            let keyStart = frame.baseAddress! + headerLength
            source.bytes.withUnsafeBufferPointer { keyStart.initialize(from: $0.baseAddress!, count: DERP.keyLength) }
            packet.withUnsafeBufferPointer { bytes in
                guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
                (keyStart + DERP.keyLength).initialize(from: base, count: bytes.count)
            }
            initialized = frameLength
        }
    }

    /// KeepAlive, empty.
    public static let keepAlive = DERPFrame(type: .keepAlive)

    /// NotePreferred: one byte, 1 for the client's home server.
    public static func notePreferred(_ isPreferred: Bool) -> DERPFrame {
        DERPFrame(type: .notePreferred, payload: [isPreferred ? 1 : 0])
    }

    /// PeerGone: the key, then the reason byte.
    public static func peerGone(_ key: NodePublicKey, reason: DERPPeerGoneReason) -> DERPFrame {
        DERPFrame(type: .peerGone, payload: key.bytes + [reason.rawValue])
    }

    /// Restarting: the server is going away; reconnect after the first value and keep trying for
    /// the second, both in milliseconds as big-endian 32-bit integers.
    public static func restarting(reconnectInMilliseconds: UInt32, tryForMilliseconds: UInt32) -> DERPFrame {
        DERPFrame(
            type: .restarting,
            payload: bigEndianBytes(reconnectInMilliseconds) + bigEndianBytes(tryForMilliseconds)
        )
    }

    /// Health: a problem the client shows as a health warning for this relay; empty clears it.
    public static func health(_ problem: String) -> DERPFrame {
        DERPFrame(type: .health, payload: Array(problem.utf8))
    }

    private static func bigEndianBytes(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// Ping with 8 opaque bytes.
    public static func ping(_ data: [UInt8]) -> DERPFrame {
        DERPFrame(type: .ping, payload: data)
    }

    /// Pong echoing the 8 bytes of a Ping.
    public static func pong(_ data: [UInt8]) -> DERPFrame {
        DERPFrame(type: .pong, payload: data)
    }
}
