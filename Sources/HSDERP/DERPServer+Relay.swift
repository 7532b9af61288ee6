import Dispatch
import HSCore
import HSPosix
import Synchronization

extension DERPServer {
    /// Takes over an upgraded stream: registers a new connection and sends ServerKey. Runs on the
    /// stream's queue.
    func accept(_ stream: any ByteStream, initialBytes: [UInt8]) {
        let number = nextConnectionNumber()
        let connectionLogger = logger.with("conn", number).with("remote", stream.remoteAddress)
        let connection = DERPServerConnection(server: self, stream: stream, logger: connectionLogger)
        guard registry.withLock({ $0.accept(connection) }) else {
            stream.close()
            return
        }
        count(\.acceptedConnections)
        connection.start(initialBytes: initialBytes)
    }

    /// Removes a closing connection. When no other connection with its key remains, queues
    /// PeerGone "disconnected" for the clients that received packets from that key.
    func unregister(_ connection: DERPServerConnection, key: NodePublicKey?, sourcesSeen: Set<NodePublicKey>) {
        let (watchers, remaining) = registry.withLock { registry in
            let watchers = registry.remove(connection, key: key, sourcesSeen: sourcesSeen)
            return (watchers, key.map { registry.connections(of: $0) } ?? [])
        }
        if remaining.count == 1 {
            // The last duplicate left, so the warning it got no longer applies.
            remaining[0].enqueueControl(DERPOutbox.Control(frame: DERPFrame.health("").encoded(), goneSource: nil))
        }
        guard let key else { return }
        let frame = DERPFrame.peerGone(key, reason: .disconnected).encoded()
        var sent = 0
        for watcher in watchers where watcher !== connection {
            let control = DERPOutbox.Control(frame: frame, goneSource: key)
            if watcher.isConnectionWatcher.load(ordering: .relaxed) {
                sendToWatcher(watcher, control)
                sent += 1
            } else if watcher.enqueueControl(control) {
                sent += 1
            }
        }
        count(\.peerGoneDisconnectedSent, by: sent)
        if sent > 0 {
            logger.debug("sent PeerGone (disconnected)", [("node", key.shortDescription), ("peers", String(sent))])
        }
    }

    /// Runs `work` on `connection`'s queue. On a poll loop's thread it runs on that thread once the
    /// loop has read its ready streams, so a relay step costs no extra thread wake-up. Elsewhere it
    /// hops to the queue.
    func runOnQueue(
        of connection: DERPServerConnection,
        _ work: @escaping @Sendable (DERPServerConnection) -> Void
    ) {
        guard let loop = pollLoops?.currentLoop() else {
            connection.stream.queue.async { work(connection) }
            return
        }
        loop.runAfterReads { connection.stream.queue.sync { work(connection) } }
    }

    /// The Health problem duplicate connections of one node key show.
    static let duplicateHealthProblem =
        "another connection with this node key is open to this relay; "
        + "only the one that sent a frame last receives packets"

    /// Warns the connections of a key that has several: all of them when the second one arrives,
    /// then each newcomer.
    func warnDuplicates(_ connections: [DERPServerConnection], newcomer: DERPServerConnection) {
        guard connections.count > 1 else { return }
        let control = DERPOutbox.Control(
            frame: DERPFrame.health(Self.duplicateHealthProblem).encoded(),
            goneSource: nil
        )
        for connection in connections where connections.count == 2 || connection === newcomer {
            connection.enqueueControl(control)
        }
    }
}
