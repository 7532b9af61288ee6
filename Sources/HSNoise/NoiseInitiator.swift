import HSCore
import HSCrypto

/// The client (initiator) side of Tailscale's control-protocol handshake, for tests and load
/// tools that act as a Tailscale client.
///
/// Create it to get the 101-byte ``initiation``, send that to the server, then pass the
/// server's reply to ``complete(response:)``. See ``NoiseHandshake`` for both message layouts.
public struct NoiseInitiator: Sendable {
    /// The complete initiation message, header included.
    public let initiation: [UInt8]
    /// The protocol version written into the initiation header.
    public let protocolVersion: UInt16

    private let machineKey: Curve25519PrivateKey
    private let ephemeralKey: Curve25519PrivateKey
    private let state: SymmetricState

    /// Builds the initiation for a server whose static public key is `serverPublicKey`.
    /// - Parameters:
    ///   - machineKey: the client's static key, which the server learns as its machine key.
    ///   - serverPublicKey: the server's Noise public key, as `/key` returns it.
    ///   - protocolVersion: the client's capability version, such as 130 for Tailscale v1.90.
    ///   - ephemeralKey: a fresh key for every handshake; tests may pass a fixed one.
    /// - Throws: ``NoiseError`` when a Diffie-Hellman step fails, as it does for a low-order server key.
    public init(
        machineKey: Curve25519PrivateKey,
        serverPublicKey: MachinePublicKey,
        protocolVersion: UInt16,
        ephemeralKey: Curve25519PrivateKey = Curve25519PrivateKey()
    ) throws(NoiseError) {
        var state = SymmetricState(prologue: NoiseHandshake.prologue(version: protocolVersion))
        state.mixHash(serverPublicKey.bytes)

        // -> e
        state.mixHash(ephemeralKey.publicKeyBytes)
        // -> es
        try state.mixKey(diffieHellman: ephemeralKey, serverPublicKey.bytes, step: "initiation token es")
        // -> s
        let encryptedMachineKey = try state.encryptAndHash(machineKey.publicKeyBytes, step: "sealing machine key")
        // -> ss
        try state.mixKey(diffieHellman: machineKey, serverPublicKey.bytes, step: "initiation token ss")
        let tag = try state.encryptAndHash([], step: "sealing initiation payload")

        let version = Int(protocolVersion)
        let header: [UInt8] =
            [UInt8(truncatingIfNeeded: version >> 8), UInt8(truncatingIfNeeded: version)]
            + NoiseFrame.header(type: NoiseFrame.initiationType, length: NoiseFrame.initiationPayloadByteCount)
        self.initiation = header + ephemeralKey.publicKeyBytes + encryptedMachineKey + tag
        self.protocolVersion = protocolVersion
        self.machineKey = machineKey
        self.ephemeralKey = ephemeralKey
        self.state = state
    }

    /// Consumes the server's 51-byte response and returns the client's transport.
    ///
    /// The transport seals with the client-to-server key and opens with the server-to-client key.
    /// - Throws: ``NoiseError`` when the server sent an error frame (its text is in the message),
    ///   when the response is malformed, or when it fails to authenticate.
    public func complete(response: [UInt8]) throws(NoiseError) -> NoiseTransport {
        try checkResponseHeader(response)
        var state = self.state

        // <- e
        let serverEphemeral = Array(response[3..<35])
        state.mixHash(serverEphemeral)
        // <- ee
        try state.mixKey(diffieHellman: ephemeralKey, serverEphemeral, step: "response token ee")
        // <- se
        try state.mixKey(diffieHellman: machineKey, serverEphemeral, step: "response token se")
        _ = try state.decryptAndHash(Array(response[35..<51]), step: "verifying response payload tag")

        let keys = state.split()
        return NoiseTransport(
            sendKey: keys.initiatorToResponder,
            receiveKey: keys.responderToInitiator,
            handshakeHash: state.handshakeHash
        )
    }

    private func checkResponseHeader(_ response: [UInt8]) throws(NoiseError) {
        let step = "reading handshake response"
        if response.count >= NoiseFrame.headerByteCount && response[0] == NoiseFrame.errorType {
            let text = String(decoding: response.dropFirst(NoiseFrame.headerByteCount), as: UTF8.self)
            throw NoiseError(step: step, "server error: \"\(text)\"")
        }
        guard response.count == NoiseFrame.responseByteCount else {
            throw NoiseError(step: step, "wrong length \(response.count), expected \(NoiseFrame.responseByteCount)")
        }
        guard response[0] == NoiseFrame.responseType else {
            throw NoiseError(step: step, "unexpected message type \(response[0]), expected \(NoiseFrame.responseType)")
        }
        let payloadLength = NoiseFrame.readUInt16(response, at: 1)
        guard payloadLength == NoiseFrame.responsePayloadByteCount else {
            throw NoiseError(
                step: step,
                "wrong payload length \(payloadLength), expected \(NoiseFrame.responsePayloadByteCount)"
            )
        }
    }
}
