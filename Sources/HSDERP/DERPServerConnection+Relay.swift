import Dispatch
import HSCore
import HSPosix
import Synchronization

/// State of the relay path across the frames of one read. It keeps the last destination looked
/// up, so a run of packets to one peer takes the registry lock once, and counts that reach the
/// statistics in one update at the end.
struct DERPRelayBatch {
    var destination: NodePublicKey?
    /// The active connection for `destination`, or nil when it is not connected.
    var target: DERPServerConnection?
    /// The mesh link for `destination` when no local client has it.
    var remote: (any DERPMeshForwarder)?
    var received = 0
    var droppedUnknownDestination = 0
    var droppedQueueFull = 0
    var droppedDisconnected = 0
    var readPauses = 0
    var readPausesTimedOut = 0
    var forwardedOut = 0

    var isEmpty: Bool {
        received == 0 && droppedUnknownDestination == 0 && droppedQueueFull == 0 && droppedDisconnected == 0
            && readPauses == 0 && readPausesTimedOut == 0 && forwardedOut == 0
    }

    /// Compares 32 key bytes with `destination`'s as four 64-bit words.
    func isDestination(_ keyBytes: ArraySlice<UInt8>) -> Bool {
        guard let destination else { return false }
        return destination.bytes.withUnsafeBytes { known in
            keyBytes.withUnsafeBytes { candidate in
                (0..<DERP.keyLength / 8).allSatisfy { word in
                    known.loadUnaligned(fromByteOffset: word * 8, as: UInt64.self)
                        == candidate.loadUnaligned(fromByteOffset: word * 8, as: UInt64.self)
                }
            }
        }
    }
}

extension DERPServerConnection {
    /// Hands one SendPacket payload (destination key, then packet) to the destination's
    /// connection, copying the packet once into the RecvPacket frame. When the destination's queue
    /// is full, pauses reading (see `deliver`). When the destination is not connected, drops the
    /// packet and, for a disco packet, replies PeerGone "not here" within the rate limit.
    ///
    /// - Throws: ``DERPError`` `malformedFrame` for a payload shorter than a key or a packet over
    ///   ``DERP/maxPacketLength``.
    func relay(
        sendPacketPayload payload: ArraySlice<UInt8>,
        from source: NodePublicKey,
        batch: inout DERPRelayBatch
    ) throws(DERPError) {
        try DERPClientMessage.checkSendPacketLength(payload.count)
        batch.received += 1
        let keyEnd = payload.startIndex + DERP.keyLength
        let destinationBytes = payload[payload.startIndex..<keyEnd]
        if !batch.isDestination(destinationBytes) {
            let destination = NodePublicKey(bytes: Array(destinationBytes))!
            batch.destination = destination
            (batch.target, batch.remote) = server.registry.withLock { registry in
                let target = registry.activeConnection(for: destination)
                return (target, target == nil ? registry.remoteForwarder(for: destination) : nil)
            }
        }
        let packet = payload[keyEnd...]
        guard let destination = batch.destination, let target = batch.target else {
            if let destination = batch.destination, let forwarder = batch.remote {
                forwardToMesh(packet, from: source, to: destination, via: forwarder, batch: &batch)
                return
            }
            batch.droppedUnknownDestination += 1
            if let destination = batch.destination {
                replyNotHere(destination: destination, packet: packet)
            }
            return
        }
        let frame = DERPFrame.encodedRecvPacket(from: source, packet)
        let relayed = DERPOutbox.Packet(source: source, frame: frame, packetLength: packet.count)
        deliver(relayed, to: target, destination: destination, batch: &batch)
    }

    /// Hands a packet for a client of another relay to the mesh link that reported it.
    private func forwardToMesh(
        _ packet: ArraySlice<UInt8>,
        from source: NodePublicKey,
        to destination: NodePublicKey,
        via forwarder: any DERPMeshForwarder,
        batch: inout DERPRelayBatch
    ) {
        let frame = DERPFrame.forwardPacket(from: source, to: destination, Array(packet)).encoded()
        if forwarder.forward(frame) {
            batch.forwardedOut += 1
        } else {
            batch.droppedQueueFull += 1
        }
    }

    /// Adds the counts of a finished read or resume to the server's statistics.
    func finishRelay(_ batch: DERPRelayBatch) {
        guard !batch.isEmpty else { return }
        if batch.droppedQueueFull > 0 {
            // A sender that outruns its peer's 32-packet queue is the likely flooder. Honest bursts
            // trigger this too, so the limiter keeps it to one line per 10 s per source.
            server.offenders.note(
                "packets from a DERP client overflowed a peer's send queue and were dropped",
                kind: "derp-queue-full",
                peer: stream.remoteAddress,
                [("dropped", String(batch.droppedQueueFull))]
            )
        }
        server.updateCounters {
            $0.packetsReceived += batch.received
            $0.packetsDroppedUnknownDestination += batch.droppedUnknownDestination
            $0.packetsDroppedQueueFull += batch.droppedQueueFull
            $0.packetsDroppedDisconnected += batch.droppedDisconnected
            $0.readPauses += batch.readPauses
            $0.readPausesTimedOut += batch.readPausesTimedOut
            $0.packetsForwardedOut += batch.forwardedOut
        }
    }

    private func replyNotHere(destination: NodePublicKey, packet: ArraySlice<UInt8>) {
        // Like Tailscale's server, reply only to disco packets, because those carry the
        // NAT-traversal messages for which the sender should try another path at once.
        guard DERPDisco.looksLikeDiscoPacket(packet), peerGoneTokens.take(now: DispatchTime.now().uptimeNanoseconds)
        else {
            return
        }
        server.count(\.peerGoneNotHereSent)
        write(DERPFrame.peerGone(destination, reason: .notHere).encoded())
    }
}

/// Recognises Tailscale disco messages: the 6-byte magic `TS💬`, then a 32-byte key and a 24-byte
/// nonce at least.
enum DERPDisco {
    static let magic: [UInt8] = [0x54, 0x53, 0xF0, 0x9F, 0x92, 0xAC]

    static func looksLikeDiscoPacket(_ packet: some Collection<UInt8>) -> Bool {
        packet.count >= magic.count + 32 + 24 && packet.starts(with: magic)
    }
}

/// A token bucket for rate-limited replies; `now` is in nanoseconds of a monotonic clock.
struct DERPTokenBucket {
    let burst: Double
    let perSecond: Double
    private var tokens: Double
    private var lastRefill: UInt64 = 0

    init(burst: Double, perSecond: Double) {
        self.burst = burst
        self.perSecond = perSecond
        self.tokens = burst
    }

    /// Takes one token if one is available.
    mutating func take(now: UInt64) -> Bool {
        if lastRefill != 0, now > lastRefill {
            tokens = min(burst, tokens + Double(now - lastRefill) / 1e9 * perSecond)
        }
        lastRefill = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
