import HSCore
import HSCrypto

/// The server (responder) side of Tailscale's control-protocol handshake,
/// `Noise_IK_25519_ChaChaPoly_BLAKE2s` with the prologue `Tailscale Control Protocol v<version>`.
///
/// This is a sans-IO function: the caller passes the complete 101-byte initiation (from the
/// `X-Tailscale-Handshake` header) and writes the returned response to the client.
///
/// Initiation layout (101 bytes):
///
/// | Offset | Length | Content                                             |
/// |--------|--------|-----------------------------------------------------|
/// | 0      | 2      | protocol version, big-endian u16 (130 for v1.90)    |
/// | 2      | 1      | `0x01`                                              |
/// | 3      | 2      | payload length, big-endian u16, always 96           |
/// | 5      | 32     | client ephemeral public key                         |
/// | 37     | 48     | client machine public key, encrypted, with its tag  |
/// | 85     | 16     | tag over the empty payload                          |
///
/// Response layout (51 bytes): `0x02`, length 48 as a big-endian u16, the server ephemeral
/// public key (32), and the tag over the empty payload (16).
public enum NoiseHandshake {
    /// Validates an initiation and returns the response and the server's transport.
    ///
    /// The server accepts any protocol version here, and the caller decides whether to serve it.
    /// - Parameters:
    ///   - initiation: the complete initiation message, header included.
    ///   - serverKey: the server's static Noise key, whose public half clients get from `/key`.
    /// - Throws: ``NoiseError`` naming the failed step. Its ``NoiseError/errorFrameText`` is set
    ///   for malformed headers, which Tailscale's server reports to the client in an error frame.
    public static func respond(
        to initiation: [UInt8],
        serverKey: Curve25519PrivateKey
    ) throws(NoiseError) -> NoiseHandshakeResult {
        try respond(to: initiation, serverKey: serverKey, ephemeralKey: Curve25519PrivateKey())
    }

    /// Same as ``respond(to:serverKey:)`` with a given ephemeral key, for reproducible tests.
    static func respond(
        to initiation: [UInt8],
        serverKey: Curve25519PrivateKey,
        ephemeralKey: Curve25519PrivateKey
    ) throws(NoiseError) -> NoiseHandshakeResult {
        let version = try checkInitiationHeader(initiation)
        var state = SymmetricState(prologue: prologue(version: version))
        state.mixHash(serverKey.publicKeyBytes)

        // -> e
        let clientEphemeral = Array(initiation[5..<37])
        state.mixHash(clientEphemeral)
        // -> es
        try state.mixKey(diffieHellman: serverKey, clientEphemeral, step: "initiation token es")
        // -> s
        let machineKeyBytes = try state.decryptAndHash(
            Array(initiation[37..<85]),
            step: "decrypting client machine key in initiation"
        )
        // -> ss
        try state.mixKey(diffieHellman: serverKey, machineKeyBytes, step: "initiation token ss")
        _ = try state.decryptAndHash(Array(initiation[85..<101]), step: "verifying initiation payload tag")

        // <- e
        state.mixHash(ephemeralKey.publicKeyBytes)
        // <- ee
        try state.mixKey(diffieHellman: ephemeralKey, clientEphemeral, step: "response token ee")
        // <- se
        try state.mixKey(diffieHellman: ephemeralKey, machineKeyBytes, step: "response token se")
        let tag = try state.encryptAndHash([], step: "sealing response payload")

        let response =
            NoiseFrame.header(type: NoiseFrame.responseType, length: NoiseFrame.responsePayloadByteCount)
            + ephemeralKey.publicKeyBytes + tag
        let keys = state.split()
        guard let machineKey = MachinePublicKey(bytes: machineKeyBytes) else {
            preconditionFailure("decrypted machine key is \(machineKeyBytes.count) bytes, not 32")
        }
        return NoiseHandshakeResult(
            response: response,
            transport: NoiseTransport(
                sendKey: keys.responderToInitiator,
                receiveKey: keys.initiatorToResponder,
                handshakeHash: state.handshakeHash
            ),
            peerMachineKey: machineKey,
            protocolVersion: version,
            handshakeHash: state.handshakeHash
        )
    }

    /// Returns the prologue both sides mix into the handshake hash, such as
    /// `Tailscale Control Protocol v130`.
    public static func prologue(version: UInt16) -> [UInt8] {
        Array("Tailscale Control Protocol v\(version)".utf8)
    }

    /// Checks length, type and payload length; returns the protocol version.
    private static func checkInitiationHeader(_ initiation: [UInt8]) throws(NoiseError) -> UInt16 {
        let step = "reading initiation header"
        guard initiation.count == NoiseFrame.initiationByteCount else {
            throw NoiseError(
                step: step,
                "wrong length \(initiation.count), expected \(NoiseFrame.initiationByteCount)",
                errorFrameText: "wrong handshake initiation size"
            )
        }
        guard initiation[2] == NoiseFrame.initiationType else {
            throw NoiseError(
                step: step,
                "unexpected message type \(initiation[2]), expected \(NoiseFrame.initiationType) (initiation)",
                errorFrameText: "unexpected handshake message type"
            )
        }
        let payloadLength = NoiseFrame.readUInt16(initiation, at: 3)
        guard payloadLength == NoiseFrame.initiationPayloadByteCount else {
            throw NoiseError(
                step: step,
                "wrong payload length \(payloadLength), expected \(NoiseFrame.initiationPayloadByteCount)",
                errorFrameText: "wrong handshake initiation length"
            )
        }
        return UInt16(NoiseFrame.readUInt16(initiation, at: 0))
    }
}

/// The outcome of a successful server-side handshake.
public struct NoiseHandshakeResult: Sendable {
    /// The 51-byte response frame to write to the client.
    public let response: [UInt8]
    /// The server's transport: it seals with the server-to-client key and opens with the other.
    public var transport: NoiseTransport
    /// The client's machine key, authenticated by the handshake.
    public let peerMachineKey: MachinePublicKey
    /// The protocol version from the initiation header, the client's capability version.
    public let protocolVersion: UInt16
    /// The final handshake hash `h`, usable for channel binding. It is never sent.
    public let handshakeHash: [UInt8]
}
