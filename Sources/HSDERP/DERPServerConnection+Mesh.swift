import HSCore
import Synchronization

extension DERPServerConnection {
    /// Acts on a frame from a mesh peer: WatchConns, ClosePeer or ForwardPacket.
    func handleMeshMessage(_ message: DERPClientMessage) {
        switch message {
        case .watchConns:
            watchConnections()
        case .closePeer(let key):
            logger.info("mesh peer closes a client", [("client", key.shortDescription)])
            server.closeClient(key)
        case .forwardPacket(let source, let destination, let packet):
            var batch = DERPRelayBatch()
            forward(packet, from: source, to: destination, batch: &batch)
            finishRelay(batch)
        default:
            return
        }
    }

    /// Registers this mesh peer for connection events and writes PeerPresent for every client
    /// connected now. Later arrivals and departures come through the control queue, after these.
    private func watchConnections() {
        guard !isConnectionWatcher.exchange(true, ordering: .relaxed) else { return }
        let present = server.registry.withLock { $0.watchConnections(self) }
        for (key, presence) in present {
            write(DERPFrame.peerPresent(key, remoteAddress: presence.remoteAddress, flags: presence.flags).encoded())
        }
        logger.info("mesh peer watches connections", [("clients", String(present.count))])
    }

    /// Delivers a packet that a mesh peer's client `source` sent to this relay's client
    /// `destination`, with the same queueing and back-pressure as a local packet.
    private func forward(
        _ packet: [UInt8],
        from source: NodePublicKey,
        to destination: NodePublicKey,
        batch: inout DERPRelayBatch
    ) {
        server.count(\.packetsForwardedIn)
        batch.received += 1
        guard let target = server.registry.withLock({ $0.activeConnection(for: destination) }) else {
            batch.droppedUnknownDestination += 1
            return
        }
        let frame = DERPFrame.encodedRecvPacket(from: source, packet[...])
        let relayed = DERPOutbox.Packet(source: source, frame: frame, packetLength: packet.count)
        deliver(relayed, to: target, destination: destination, batch: &batch)
    }
}
