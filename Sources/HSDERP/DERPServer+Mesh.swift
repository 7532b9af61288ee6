import HSCore
import Synchronization

/// Mesh peers: other relays that present this relay's mesh key in ClientInfo. A mesh peer may
/// watch this relay's connections (PeerPresent and PeerGone for every client), close a client's
/// connection, and forward packets from its own clients to this relay's clients.
extension DERPServer {
    /// True when `hex` spells this relay's mesh key; the bytes are compared in constant time.
    func isMeshKey(_ hex: String?) -> Bool {
        guard let meshKey, let hex, let bytes = Hex.decode(hex), bytes.count == meshKey.count else { return false }
        var difference: UInt8 = 0
        for (given, expected) in zip(bytes, meshKey) {
            difference |= given ^ expected
        }
        return difference == 0
    }

    /// Queues PeerPresent of `key` for each connection watcher other than `connection` itself.
    func announcePresent(
        _ key: NodePublicKey,
        _ presence: DERPPresence,
        to watchers: [DERPServerConnection],
        except connection: DERPServerConnection
    ) {
        guard watchers.contains(where: { $0 !== connection }) else { return }
        let frame = DERPFrame.peerPresent(key, remoteAddress: presence.remoteAddress, flags: presence.flags)
        let control = DERPOutbox.Control(frame: frame.encoded(), goneSource: nil)
        for watcher in watchers where watcher !== connection {
            sendToWatcher(watcher, control)
        }
    }

    /// Queues a connection event for a mesh peer. A peer whose control queue is full is closed
    /// instead, so it reconnects and receives the whole list again rather than a list with gaps.
    func sendToWatcher(_ watcher: DERPServerConnection, _ control: DERPOutbox.Control) {
        guard !watcher.enqueueControl(control) else { return }
        runOnQueue(of: watcher) { watcher in
            watcher.close(reason: "its queue of connection events overflowed; it must reconnect to receive them again")
        }
    }

    /// Closes the connections of `key` for a mesh peer's ClosePeer. Connections of other mesh
    /// peers stay open.
    func closeClient(_ key: NodePublicKey) {
        let targets = registry.withLock { $0.connections(of: key) }
        count(\.closePeerRequests)
        for target in targets {
            runOnQueue(of: target) { target in
                guard !target.isMeshPeer else { return }
                target.close(reason: "a mesh peer asked this relay to close it")
            }
        }
    }
}
